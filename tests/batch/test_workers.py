"""A job's own workers score the native flavor without scikit-learn, a pipeline
scored in such a process afterwards still works, and without fork servers the
workers are spawned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelyard.batch import MANIFEST, _forkserver, batch_predict
from modelyard.batch._workers import JobWorkers
from modelyard.jobs import JobStatus
from modelyard.workspace import Workspace
from tests.batch import _probe
from tests.batch.conftest import new_customers


def _run(script: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


PROGRAM = """
import json, sys
from pathlib import Path
import pyarrow.parquet as pq
import pytest
from modelyard.batch import _rows
from modelyard.batch._scorer import Scorer
from modelyard.batch._workers import start_worker

package, rows, flavors = Path(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
start_worker(("xgboost",))  # as the job's pool starts each worker
batch = pq.read_table(rows).to_batches()[0]
out = {"flavors": [], "probabilities": []}
for flavor in flavors:
    scorer = Scorer(package, flavor, "churn:1")
    checked = _rows.check_rows(batch, scorer.inputs)
    columns = scorer.score(checked, batch.num_rows)
    out["flavors"].append(scorer.flavor)
    out["probabilities"].append(columns["proba_1"].tolist())
    out.setdefault("loaded_after_" + flavor, sorted(
        m for m in ("sklearn", "joblib") if m in sys.modules))
print(json.dumps(out))
"""


def _package_and_rows(workspace: Workspace, tmp_path: Path) -> tuple[Path, Path]:
    package = workspace.models.package_path(workspace.models.get("churn:production"))
    rows = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pandas(new_customers(300, seed=70), preserve_index=False), rows)
    return package, rows


def test_a_job_worker_scores_natively_without_scikit_learn(
    model_workspace: Workspace, tmp_path: Path
) -> None:
    package, rows = _package_and_rows(model_workspace, tmp_path)
    result = _run(PROGRAM, str(package), str(rows), "native")
    assert result["flavors"] == ["native"]
    assert result["loaded_after_native"] == []


def test_a_pipeline_after_a_lean_xgboost_import_scores_like_the_native_flavor(
    model_workspace: Workspace, tmp_path: Path
) -> None:
    package, rows = _package_and_rows(model_workspace, tmp_path)
    result = _run(PROGRAM, str(package), str(rows), "native,pipeline")
    assert result["flavors"] == ["native", "pipeline"]
    native, pipeline = result["probabilities"]
    assert max(abs(a - b) for a, b in zip(native, pipeline, strict=True)) < 1e-6


PARTITION = """
import json, sys
from modelyard.batch._partition import PartitionTask, score_partition
from modelyard.batch._scorer import ModelSource
from modelyard.batch._workers import start_worker

package, rows, output, pandas = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "yes"
start_worker(("xgboost",), pandas)  # as a job's pool starts each worker
import pyarrow.parquet as pq
import pytest
from modelyard.batch._inputs import plan_partitions, resolve_inputs

(planned,), _ = plan_partitions(resolve_inputs(rows), 10_000, 1 << 20)
source = ModelSource(ref="churn:1", digest="", artifact_url="", local_dir=package)
task = PartitionTask(
    job_id="0" * 32, key=planned.key, spec={**planned.spec, "rows": planned.rows},
    model=source, output=output, output_format="parquet", keep=["customer_id", "region"],
)
result = score_partition(task)
print(json.dumps({"checksum": result["checksum"], "rows": result["rows_out"],
                  "pandas": "pandas" in sys.modules}))
"""


def test_a_job_worker_kept_from_pandas_scores_a_partition_byte_for_byte_alike(
    model_workspace: Workspace, tmp_path: Path
) -> None:
    package, rows = _package_and_rows(model_workspace, tmp_path)
    lean = _run(PARTITION, str(package), str(rows), str(tmp_path / "lean"), "no")
    full = _run(PARTITION, str(package), str(rows), str(tmp_path / "full"), "yes")
    assert lean["pandas"] is False  # pyarrow never imported it
    assert full["pandas"] is True
    assert lean["rows"] == full["rows"] == 300
    assert lean["checksum"] == full["checksum"]


DATES = """
import json, sys
import pyarrow as pa
from modelyard.batch import _rows
from modelyard.batch._scorer import detach_pandas

if sys.argv[1] == "detach":
    detach_pandas()
texts = pa.array(["3 Feb 2024 10:00", "2024-02-03T10:00:00+02:00", None, "not a date"])
seconds, bad = _rows._seconds(texts)
print(json.dumps({"seconds": [str(v) for v in seconds.to_pylist()], "bad": bad.tolist()}))
"""


def test_text_dates_read_alike_in_a_worker_kept_from_pandas() -> None:
    # the one batch path that parses with pandas, and hands its result to pyarrow
    detached = _run(DATES, "detach")
    attached = _run(DATES, "keep")
    assert detached == attached
    assert detached["bad"] == [False, False, False, True]


def test_without_fork_servers_a_jobs_workers_are_spawned_and_score_every_row(
    model_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where a job has no fork server (not POSIX, or a Python other than 3.11, on which
    tests/batch/test_forkserver.py skips) its workers are spawned by the driver. CI's
    Python has fork servers, so this test is what runs that fallback there."""
    monkeypatch.setattr(_forkserver, "available", lambda: False)
    source = tmp_path / "in.parquet"
    table = pa.Table.from_pandas(new_customers(600, seed=72), preserve_index=False)
    pq.write_table(table, source, 200)
    folder = tmp_path / "states"
    folder.mkdir()
    with JobWorkers(2, ("xgboost",), pandas=False) as workers:
        assert workers.server_pid is None  # no server: the pool spawns its workers
        futures = [workers.submit(_probe.state, str(folder), 2) for _ in range(2)]
        states = [future.result(timeout=120) for future in futures]
        result = batch_predict(
            model_workspace,
            "churn:production",
            str(source),
            str(tmp_path / "out"),
            executor=workers,
            partition_rows=200,
        )
    assert len({s["pid"] for s in states}) == 2
    assert all(s["parent"] == os.getpid() for s in states)  # children of the driver
    assert result.job.status is JobStatus.SUCCEEDED
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert (manifest["rows_in"], manifest["rows_out"]) == (600, 600)
