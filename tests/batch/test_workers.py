"""A batch worker loads the model through the registry's one loader: the flavors
agree, a partition's result is a typed record, a tampered package cache is refused
(issue 16, finding 1), and without fork servers the workers are spawned."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelyard.batch import MANIFEST, _forkserver, batch_predict
from modelyard.batch._inputs import plan_partitions, resolve_inputs
from modelyard.batch._partition import PartitionResult, PartitionTask, score_partition
from modelyard.batch._scorer import ModelSource
from modelyard.batch._workers import JobWorkers
from modelyard.errors import IntegrityError
from modelyard.jobs import JobStatus
from modelyard.workspace import Workspace
from tests.batch import _probe
from tests.batch.conftest import new_customers
from tests.conftest import Cli
from tests.registry._tamper import swap_pickle


def _rows(tmp_path: Path, n: int = 300) -> Path:
    rows = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pandas(new_customers(n, seed=70), preserve_index=False), rows)
    return rows


def _task(ws: Workspace, rows: Path, output: Path, prefer: str) -> PartitionTask:
    version = ws.models.get("churn:production")
    (planned,), _ = plan_partitions(resolve_inputs(str(rows)), 10_000, 1 << 20)
    source = ModelSource(
        ref=version.ref,
        digest=version.package_digest,
        artifact_url=ws.settings.resolved_artifact_url,
        cache_dir=str(ws.models.cache),
        prefer=prefer,
    )
    return PartitionTask(
        job_id="0" * 32,
        key=planned.key,
        spec={**planned.spec, "rows": planned.rows},
        model=source,
        output=str(output),
        output_format="parquet",
        keep=["customer_id"],
    )


def test_the_native_and_pipeline_flavors_score_alike_in_one_worker(
    model_workspace: Workspace, tmp_path: Path
) -> None:
    version = model_workspace.models.get("churn:production")
    package = model_workspace.models.package_path(version)
    result = _probe.native_then_pipeline(str(package), version.package_digest, str(_rows(tmp_path)))
    # native when it kept parity at training, else the next compiled flavor
    assert result["flavors"] in (["native", "pipeline"], ["onnx", "pipeline"])
    native, pipeline = result["probabilities"]
    assert max(abs(a - b) for a, b in zip(native, pipeline, strict=True)) < 1e-6


def test_a_partition_reports_a_typed_result(model_workspace: Workspace, tmp_path: Path) -> None:
    task = _task(model_workspace, _rows(tmp_path), tmp_path / "out", "native")
    result = score_partition(task)
    assert isinstance(result, PartitionResult)
    assert (result.rows_in, result.rows_out, result.rows_rejected) == (300, 300, 0)
    assert result.flavor == "native" and result.worker == os.getpid()
    assert result.output is not None and Path(result.output.removeprefix("file://")).is_file()
    assert set(result.details()) == {
        "errors", "errors_checksum", "capture", "seconds", "flavor", "worker", "model_loads",
    }  # fmt: skip


@pytest.fixture
def tampered_cache(model_workspace: Workspace, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """The workspace's warm cache of churn:production with a swapped pickle; put
    right again afterwards (the next use unpacks it afresh)."""
    package = model_workspace.models.package_path("churn:production")
    marker = tmp_path / "pwned"
    swap_pickle(package, marker)
    yield package, marker
    shutil.rmtree(package)


def test_a_worker_refuses_a_tampered_warm_cache(
    model_workspace: Workspace, tmp_path: Path, tampered_cache: tuple[Path, Path]
) -> None:
    _, marker = tampered_cache
    task = _task(model_workspace, _rows(tmp_path), tmp_path / "out", "pipeline")
    with pytest.raises(IntegrityError, match="does not match the registered digest"):
        score_partition(task)
    assert not marker.exists()


@pytest.mark.slow
def test_batch_predict_refuses_a_tampered_warm_cache(
    model_workspace: Workspace, tmp_path: Path, tampered_cache: tuple[Path, Path]
) -> None:
    """Through the real face: ``modelyard batch predict`` in a subprocess, workers and all."""
    _, marker = tampered_cache
    cli = Cli(model_workspace.settings.workspace)
    refused = cli(
        "batch", "predict", "--model", "churn:production", "--input", str(_rows(tmp_path)),
        "--output", str(tmp_path / "out"), "--flavor", "pipeline", check=False,
    )  # fmt: skip
    assert refused.exit_code == IntegrityError.exit_code, refused.stderr
    assert "does not match the registered digest" in refused.stderr
    assert not marker.exists()
    assert not (tmp_path / "out" / MANIFEST).exists()


@pytest.mark.slow
def test_without_fork_servers_a_jobs_workers_are_spawned_and_score_every_row(
    model_workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the platform has no fork server its workers are spawned by the driver.
    This machine has fork servers, so this test is what runs that fallback here."""
    monkeypatch.setattr(_forkserver, "available", lambda: False)
    source = tmp_path / "in.parquet"
    table = pa.Table.from_pandas(new_customers(600, seed=72), preserve_index=False)
    pq.write_table(table, source, 200)
    folder = tmp_path / "states"
    folder.mkdir()
    with JobWorkers(2, ("xgboost",)) as workers:
        futures = [workers.submit(_probe.state, str(folder), 2) for _ in range(2)]
        states = [future.result(timeout=120) for future in futures]
        assert workers.server_pid is None  # no server: the pool spawns its workers
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
    assert all(s["xgboost"] for s in states)  # warmed as they started
    assert result.job.status is JobStatus.SUCCEEDED
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert (manifest["rows_in"], manifest["rows_out"]) == (600, 600)
