"""Batch transform through the SDK: formats, parity, bad rows, budgets, resume, capture."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelyard.batch import MANIFEST, batch_predict, plan_batch, resume_batch, run_batch
from modelyard.errors import ConflictError, InvalidInputError
from modelyard.execution import LocalExecutor
from modelyard.jobs import JobStatus
from modelyard.workspace import Workspace
from tests.batch.conftest import new_customers

MODEL = "churn:production"


def _read_output(folder: Path) -> pd.DataFrame:
    frames = [
        pq.read_table(p).to_pandas() if p.suffix == ".parquet" else pd.read_csv(p)
        for p in sorted(folder.glob("part-*"))
    ]
    return pd.concat(frames).sort_values("customer_id").reset_index(drop=True)


def _expected(workspace: Workspace, customers: pd.DataFrame) -> pd.DataFrame:
    predicted = workspace.models.load(MODEL).predict(customers).to_frame()
    predicted.insert(0, "customer_id", customers["customer_id"].to_numpy())
    return predicted.sort_values("customer_id").reset_index(drop=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl", "jsonl.gz"])
def test_every_format_scores_every_row_once_like_the_model(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path, fmt: str
) -> None:
    customers = new_customers(3000, seed=21)
    source = tmp_path / f"customers.{fmt}"
    if fmt == "parquet":
        pq.write_table(pa.Table.from_pandas(customers, preserve_index=False), source, 500)
    elif fmt == "csv":
        customers.to_csv(source, index=False)
    else:
        customers.to_json(source, orient="records", lines=True, date_format="iso")
    out = tmp_path / "out"
    result = batch_predict(
        model_workspace,
        MODEL,
        str(source),
        str(out),
        keep=["customer_id"],
        executor=local_executor,
        partition_rows=1000,
        partition_bytes=100_000,
    )
    assert result.job.status is JobStatus.SUCCEEDED
    scored = _read_output(out)
    expected = _expected(model_workspace, customers)
    assert scored["customer_id"].tolist() == expected["customer_id"].tolist()  # once each
    np.testing.assert_allclose(scored["proba_1"], expected["proba_1"], rtol=0, atol=1e-6)
    # the native flavor against the ONNX flavor: a row scored within float32 rounding
    # of the tuned threshold (a threshold is a validation row's score) may fall
    # either side of it
    threshold = model_workspace.models.manifest(MODEL).threshold
    assert threshold is not None
    decided = (expected["proba_1"] - threshold).abs() > 1e-6
    assert (scored["prediction"] == expected["prediction"])[decided].all()
    assert (scored["decision"] == (scored["prediction"] == 1)).all()
    assert set(scored["model_version"]) == {"churn:1"}
    manifest = json.loads((out / MANIFEST).read_text())
    assert (manifest["rows_in"], manifest["rows_out"], manifest["rows_rejected"]) == (3000,) * 2 + (
        0,
    )
    if fmt != "jsonl.gz":  # a compressed file is one partition; the others are cut
        assert len(manifest["parts"]) > 1
    for part in manifest["parts"]:
        assert _sha256(out / part["file"]) == part["sha256"]


def test_each_worker_loads_the_model_once(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    source = tmp_path / "in.parquet"
    table = pa.Table.from_pandas(new_customers(4000, seed=34), preserve_index=False)
    pq.write_table(table, source, 250)
    result = batch_predict(
        model_workspace, MODEL, str(source), str(tmp_path / "o"), executor=local_executor,
        partition_rows=250,
    )  # fmt: skip
    partitions = model_workspace.jobs.partitions(result.job.id)
    assert len(partitions) == 16
    workers = {p.details["worker"] for p in partitions if p.details}
    assert 1 <= len(workers) <= local_executor.workers
    assert {p.details["model_loads"] for p in partitions if p.details} == {1}


def test_keep_defaults_to_every_input_column(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    customers = new_customers(300, seed=22)
    source = tmp_path / "in.parquet"
    customers.to_parquet(source, index=False)
    batch_predict(model_workspace, MODEL, str(source), str(tmp_path / "o"), executor=local_executor)
    scored = pq.read_table(tmp_path / "o").to_pandas()
    extra = ["prediction", "proba_0", "proba_1", "decision", "model_version"]
    assert list(scored.columns) == [*customers.columns, *extra]


def _with_bad_rows(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    customers = new_customers(400, seed=23).astype(
        {"tenure_months": object, "paperless_billing": object}
    )
    customers["signup_date"] = customers["signup_date"].dt.strftime("%Y-%m-%d").astype(object)
    customers.loc[5, "tenure_months"] = "abc"
    customers.loc[17, "contract"] = None
    customers.loc[99, "signup_date"] = "not a date"
    customers.loc[250, "paperless_billing"] = "maybe"
    source = tmp_path / "mixed.csv"
    customers.to_csv(source, index=False)
    return source, customers


BAD_ROWS = {
    5: "column 'tenure_months' must be numeric",
    17: "missing value in column 'contract' (not nullable)",
    99: "column 'signup_date' must be datetime",
    250: "column 'paperless_billing' must be boolean",
}


def test_bad_rows_go_to_errors_with_their_reason(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    source, customers = _with_bad_rows(tmp_path)
    out = tmp_path / "out"
    result = batch_predict(
        model_workspace,
        MODEL,
        str(source),
        str(out),
        keep=["customer_id"],
        executor=local_executor,
        partition_bytes=10_000,
    )
    assert result.job.rows_rejected == 4
    errors = pq.read_table(out / "_errors").to_pandas()
    by_customer = dict(zip(errors["customer_id"], errors["_reason"], strict=True))
    assert by_customer == {customers.loc[i, "customer_id"]: r for i, r in BAD_ROWS.items()}
    scored = _read_output(out)
    good = customers.drop(index=list(BAD_ROWS))
    assert scored["customer_id"].tolist() == sorted(good["customer_id"])
    expected = _expected(model_workspace, new_customers(400, seed=23).drop(index=list(BAD_ROWS)))
    np.testing.assert_allclose(scored["proba_1"], expected["proba_1"], atol=1e-6)
    assert result.manifest is not None and result.manifest["rows_rejected"] == 4


def test_max_errors_zero_fails_the_job_and_writes_no_manifest(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    source, _ = _with_bad_rows(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(InvalidInputError, match=r"rejected rows? exceed --max-errors 0"):
        batch_predict(
            model_workspace, MODEL, str(source), str(out), max_errors=0, executor=local_executor
        )
    job = model_workspace.jobs.list_jobs("batch", limit=1)[0]
    assert job.status is JobStatus.FAILED
    assert job.error is not None and "--max-errors 0" in job.error
    assert not (out / MANIFEST).exists()


@pytest.mark.parametrize(("budget", "fails"), [("50%", False), ("0.5%", True), ("4", False)])
def test_max_errors_as_share_or_count(
    model_workspace: Workspace,
    local_executor: LocalExecutor,
    tmp_path: Path,
    budget: str,
    fails: bool,
) -> None:
    source, _ = _with_bad_rows(tmp_path)  # 4 bad rows of 400: 1%
    out = tmp_path / "out"
    if fails:
        with pytest.raises(InvalidInputError, match=f"--max-errors {budget}"):
            batch_predict(
                model_workspace,
                MODEL,
                str(source),
                str(out),
                max_errors=budget,
                executor=local_executor,
            )
        assert not (out / MANIFEST).exists()
    else:
        result = batch_predict(
            model_workspace,
            MODEL,
            str(source),
            str(out),
            max_errors=budget,
            executor=local_executor,
        )
        assert result.job.status is JobStatus.SUCCEEDED


def test_bad_max_errors_is_refused(model_workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="invalid --max-errors 'lots'"):
        plan_batch(model_workspace, MODEL, str(tmp_path), str(tmp_path / "o"), max_errors="lots")


def test_a_missing_model_column_rejects_every_row(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    source = tmp_path / "in.parquet"
    new_customers(200, seed=24).drop(columns=["region"]).to_parquet(source, index=False)
    result = batch_predict(
        model_workspace, MODEL, str(source), str(tmp_path / "o"), executor=local_executor
    )
    assert result.job.rows_rejected == 200
    reasons = set(pq.read_table(tmp_path / "o" / "_errors").column("_reason").to_pylist())
    assert reasons == {"missing column 'region'"}


def test_resume_redoes_a_partition_renamed_but_not_recorded(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    customers = new_customers(2000, seed=25)
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pandas(customers, preserve_index=False), source, 500)
    out = tmp_path / "out"
    first = batch_predict(
        model_workspace,
        MODEL,
        str(source),
        str(out),
        keep=["customer_id"],
        executor=local_executor,
        partition_rows=500,
    )
    jobs = model_workspace.jobs
    victim = jobs.partitions(first.job.id)[2]
    assert victim.output is not None
    # what a crash between the worker's rename and the driver's record leaves behind
    jobs.forget_partitions(first.job.id, [victim.key])
    jobs.finish(first.job.id, JobStatus.FAILED, error="killed")
    (out / MANIFEST).unlink()
    part = out / Path(victim.output).name
    part.write_bytes(b"half-written garbage")
    (out / "_errors").mkdir()
    leftovers = [out / ".tmp-0123abcd-part-00000-00003.parquet", out / "_errors" / ".tmp-x.parquet"]
    for path in leftovers:
        path.write_bytes(b"a killed worker's half-written file")
    resumed = resume_batch(model_workspace, first.job.id, executor=local_executor)
    assert not any(path.exists() for path in leftovers)
    assert resumed.job.status is JobStatus.SUCCEEDED
    assert resumed.job.partitions_done == 4 and resumed.job.rows_done == 2000
    redone = jobs.partitions(first.job.id)[2]
    assert redone.committed and redone.checksum == _sha256(part)
    scored = _read_output(out)
    assert scored["customer_id"].tolist() == sorted(customers["customer_id"])


def test_resume_of_a_succeeded_job_is_a_conflict(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    source = tmp_path / "in.parquet"
    new_customers(100, seed=26).to_parquet(source, index=False)
    done = batch_predict(
        model_workspace, MODEL, str(source), str(tmp_path / "o"), executor=local_executor
    )
    with pytest.raises(ConflictError, match="already succeeded"):
        resume_batch(model_workspace, done.job.id, executor=local_executor)


def test_cancelled_job_can_be_resumed(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    source = tmp_path / "in.parquet"
    new_customers(100, seed=27).to_parquet(source, index=False)
    job = plan_batch(model_workspace, MODEL, str(source), str(tmp_path / "o"))
    assert model_workspace.jobs.cancel(job.id).status is JobStatus.CANCELLED
    result = run_batch(model_workspace, job.id, executor=local_executor)
    assert result.job.status is JobStatus.SUCCEEDED and result.job.rows_done == 100


def test_output_folder_with_files_is_refused(model_workspace: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    new_customers(10, seed=28).to_parquet(source, index=False)
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "old.parquet").write_bytes(b"x")
    with pytest.raises(ConflictError, match="not empty"):
        plan_batch(model_workspace, MODEL, str(source), str(tmp_path / "o"))


def test_capture_writes_the_serving_layout_and_schema(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    from modelyard.serving._capture import _schema

    customers = new_customers(300, seed=29)
    source = tmp_path / "in.parquet"
    customers.to_parquet(source, index=False)
    result = batch_predict(
        model_workspace,
        MODEL,
        str(source),
        str(tmp_path / "o"),
        capture=True,
        executor=local_executor,
    )
    root = model_workspace.settings.state_dir / "capture" / f"endpoint=batch-{result.job.id[:12]}"
    files = sorted(root.glob("hour=*/part-*.parquet"))
    assert files
    captured = pa.concat_tables(pq.read_table(f) for f in files)
    assert captured.schema.remove_metadata() == _schema(pa)
    assert captured.num_rows == 300
    first = json.loads(captured.column("request")[0].as_py())
    assert {"tenure_months", "contract", "signup_date"} <= set(first)
    assert "proba_1" in json.loads(captured.column("response")[0].as_py())


@pytest.mark.slow
def test_local_and_ray_give_identical_outputs(
    model_workspace: Workspace,
    local_executor: LocalExecutor,
    ray_session: object,
    tmp_path: Path,
) -> None:
    from modelyard.execution import RayExecutor

    customers = new_customers(4000, seed=30)
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pandas(customers, preserve_index=False), source, 1000)
    outputs = {}
    for name, executor in (("local", local_executor), ("ray", RayExecutor())):
        out = tmp_path / name
        result = batch_predict(
            model_workspace, MODEL, str(source), str(out), executor=executor, partition_rows=1000
        )
        assert result.job.status is JobStatus.SUCCEEDED
        outputs[name] = pa.concat_tables(pq.read_table(p) for p in sorted(out.glob("part-*")))
    assert outputs["local"].num_rows == 4000
    assert outputs["local"].equals(outputs["ray"])


def test_pipeline_flavor_agrees_with_the_onnx_flavor(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    customers = new_customers(1000, seed=31)
    source = tmp_path / "in.parquet"
    customers.to_parquet(source, index=False)
    manifests = {}
    for flavor in ("onnx", "pipeline"):
        result = batch_predict(
            model_workspace,
            MODEL,
            str(source),
            str(tmp_path / flavor),
            keep=["customer_id"],
            executor=local_executor,
            flavor=flavor,
        )
        manifests[flavor] = result.manifest
    assert manifests["onnx"] is not None and manifests["onnx"]["flavor"] == "onnx"
    assert manifests["pipeline"] is not None and manifests["pipeline"]["flavor"] == "pipeline"
    onnx, pipeline = _read_output(tmp_path / "onnx"), _read_output(tmp_path / "pipeline")
    np.testing.assert_allclose(onnx["proba_1"], pipeline["proba_1"], atol=1e-4)
    expected = _expected(model_workspace, customers)
    np.testing.assert_allclose(pipeline["proba_1"], expected["proba_1"], atol=1e-4)


def test_unknown_flavor_is_refused(model_workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unknown flavor 'tensorflow'"):
        plan_batch(model_workspace, MODEL, str(tmp_path), str(tmp_path / "o"), flavor="tensorflow")


def test_a_folder_of_mixed_files_by_file_url(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    first, second = new_customers(500, seed=32), new_customers(300, seed=33)
    second["customer_id"] = "N" + second["customer_id"]
    first.to_parquet(folder / "a.parquet", index=False)
    second.to_csv(folder / "b.csv.gz", index=False)
    (folder / "_SUCCESS").write_text("")  # hidden and unknown files are skipped
    (folder / "notes.txt.md").write_text("not data")
    result = batch_predict(
        model_workspace,
        MODEL,
        f"file://{folder}",
        f"file://{tmp_path / 'out'}",
        keep=["customer_id"],
        executor=local_executor,
    )
    assert result.manifest is not None
    assert [Path(p).name for p in result.manifest["inputs"]] == ["a.parquet", "b.csv.gz"]
    scored = _read_output(tmp_path / "out")
    assert len(scored) == 800 and scored["customer_id"].is_unique
    both = pd.concat([first, second], ignore_index=True)
    expected = _expected(model_workspace, both)
    np.testing.assert_allclose(scored["proba_1"], expected["proba_1"], atol=1e-6)


@pytest.mark.parametrize("keep", [["customer_id", "proba_1"], None])
def test_keeping_a_column_named_like_an_output_column_is_refused(
    model_workspace: Workspace, tmp_path: Path, keep: list[str] | None
) -> None:
    """It was silently replaced by the model's column of that name."""
    source = tmp_path / "rescored.parquet"
    new_customers(10, seed=35).assign(proba_1=0.5).to_parquet(source, index=False)
    with pytest.raises(InvalidInputError, match=r"cannot keep column\(s\) proba_1 of .*its own"):
        plan_batch(model_workspace, MODEL, str(source), str(tmp_path / "o"), keep=keep)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_values_that_outgrow_the_guessed_column_type_are_scored_and_kept(
    model_workspace: Workspace,
    local_executor: LocalExecutor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    """Types guessed from a text file's first block: whole numbers then ``12.5``, digits
    then a region name. It failed the job (or gave parts of different schemas)."""
    from modelyard.batch import _inputs

    monkeypatch.setattr(_inputs, "_INFER_BYTES", 4096)  # planning runs in this process
    customers = new_customers(600, seed=36).astype({"tenure_months": object})
    customers.loc[:449, "region"] = "7"
    customers.loc[450, "tenure_months"] = 12.5
    source = tmp_path / f"drift.{fmt}"
    if fmt == "csv":
        customers.to_csv(source, index=False)
    else:
        customers.to_json(source, orient="records", lines=True, date_format="iso")
    out = tmp_path / "out"
    result = batch_predict(
        model_workspace, MODEL, str(source), str(out), executor=local_executor,
        partition_bytes=20_000,
    )  # fmt: skip
    assert result.job.rows_rejected == 0 and result.job.partitions_total > 2
    schemas = {pq.read_schema(p) for p in out.glob("part-*.parquet")}
    assert len(schemas) == 1
    (schema,) = schemas
    assert schema.field("tenure_months").type == pa.float64()
    assert schema.field("region").type == pa.string()
    scored = pq.read_table(out).to_pandas().set_index("customer_id")
    assert scored.loc[customers.loc[450, "customer_id"], "tenure_months"] == 12.5
    assert set(scored["region"]) == {"7", *customers.loc[450:, "region"]}


def test_malformed_csv_lines_are_rejected_rows_not_an_unreadable_file(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    """A line with too few or too many fields failed the whole job."""
    customers = new_customers(300, seed=37)
    lines = customers.to_csv(index=False).splitlines()
    lines.insert(20, "C-short,2020-01-01,5")
    lines.insert(250, lines[249] + ",extra")
    source = tmp_path / "ragged.csv"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = batch_predict(
        model_workspace, MODEL, str(source), str(out), keep=["customer_id"],
        executor=local_executor, partition_bytes=8_000,
    )  # fmt: skip
    assert (result.job.rows_done, result.job.rows_rejected) == (302, 2)
    assert result.manifest is not None and result.manifest["rows_out"] == 300
    reasons = sorted(pq.read_table(out / "_errors").column("_reason").to_pylist())
    assert reasons[0] == "malformed CSV line: 18 fields instead of 17: " + lines[250]
    assert reasons[1] == "malformed CSV line: 3 fields instead of 17: C-short,2020-01-01,5"
    assert _read_output(out)["customer_id"].tolist() == sorted(customers["customer_id"])


def test_a_cancelled_job_still_finishing_elsewhere_is_not_resumed_twice(
    model_workspace: Workspace, tmp_path: Path
) -> None:
    """Its process finishes the partitions in flight: a second driver would redo them."""
    import os
    import socket

    source = tmp_path / "in.parquet"
    new_customers(10, seed=38).to_parquet(source, index=False)
    jobs = model_workspace.jobs
    job = plan_batch(model_workspace, MODEL, str(source), str(tmp_path / "o"))
    elsewhere = f"{socket.gethostname()}:{os.getppid()}"  # a live process that is not us
    jobs.start(job.id, owner=elsewhere)
    jobs.cancel(job.id)
    with pytest.raises(ConflictError, match=f"running in process {os.getppid()}"):
        resume_batch(model_workspace, job.id)
    jobs.release(job.id, owner=elsewhere)  # what that process does once it stopped
    assert jobs.get(job.id).owner is None
    with LocalExecutor(max_workers=1) as executor:
        assert resume_batch(model_workspace, job.id, executor=executor).job.rows_done == 10


def test_a_gzip_file_truncated_after_its_first_block_fails_the_job_clearly(
    model_workspace: Workspace,
    local_executor: LocalExecutor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gzip

    from modelyard.batch import _inputs

    monkeypatch.setattr(_inputs, "_INFER_BYTES", 4096)  # planning reads the intact start
    whole = gzip.compress(new_customers(3000, seed=39).to_csv(index=False).encode())
    source = tmp_path / "cut.csv.gz"
    source.write_bytes(whole[: len(whole) // 2])
    out = tmp_path / "out"
    with pytest.raises(InvalidInputError, match=r"cut\.csv\.gz as csv: Compressed file ended"):
        batch_predict(model_workspace, MODEL, str(source), str(out), executor=local_executor)
    assert model_workspace.jobs.list_jobs("batch", limit=1)[0].status is JobStatus.FAILED
    assert [p.name for p in out.iterdir()] == ["_job.json"]  # nothing half-written


def test_a_partition_redone_on_resume_is_captured_once(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    """Each attempt wrote its own capture file: monitoring saw the partition twice."""
    source = tmp_path / "in.parquet"
    pq.write_table(
        pa.Table.from_pandas(new_customers(600, seed=44), preserve_index=False), source, 300
    )
    out = tmp_path / "out"
    first = batch_predict(
        model_workspace, MODEL, str(source), str(out), capture=True, executor=local_executor,
        partition_rows=300,
    )  # fmt: skip
    jobs = model_workspace.jobs
    # a crash after the worker's renames, before the driver recorded the partition
    jobs.forget_partitions(first.job.id, [jobs.partitions(first.job.id)[1].key])
    jobs.finish(first.job.id, JobStatus.FAILED, error="killed")
    (out / MANIFEST).unlink()
    resume_batch(model_workspace, first.job.id, executor=local_executor)
    root = model_workspace.settings.state_dir / "capture" / f"endpoint=batch-{first.job.id[:12]}"
    captured = pa.concat_tables(pq.read_table(f) for f in root.glob("hour=*/part-*.parquet"))
    assert captured.num_rows == 600
    assert len(set(captured.column("inference_id").to_pylist())) == 600


def test_a_nested_column_kept_in_csv_output_is_a_clear_error_leaving_no_file(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    """The CSV writer refused it as an internal error and left its temporary file."""
    source = tmp_path / "in.parquet"
    new_customers(50, seed=45).assign(tags=[[1, 2]] * 50).to_parquet(source, index=False)
    out = tmp_path / "out"
    with pytest.raises(InvalidInputError, match=r"cannot write column\(s\) tags \(list<"):
        batch_predict(
            model_workspace, MODEL, str(source), str(out), output_format="csv",
            executor=local_executor,
        )  # fmt: skip
    assert [p.name for p in out.iterdir()] == ["_job.json"]


def test_a_second_job_into_the_folder_of_a_job_that_wrote_nothing_yet_is_refused(
    model_workspace: Workspace, tmp_path: Path
) -> None:
    """Both saw an empty folder: their same-named part files overwrote each other."""
    source = tmp_path / "in.parquet"
    new_customers(10, seed=46).to_parquet(source, index=False)
    first = plan_batch(model_workspace, MODEL, str(source), str(tmp_path / "o"))
    with pytest.raises(ConflictError, match=f"belongs to batch job {first.id}: `batch resume"):
        plan_batch(model_workspace, MODEL, str(source), str(tmp_path / "o"))


def test_resume_refuses_an_input_changed_since_planning(
    model_workspace: Workspace, local_executor: LocalExecutor, tmp_path: Path
) -> None:
    """Its planned byte ranges no longer held the same rows: some lost, some twice."""
    source = tmp_path / "in.csv"
    new_customers(400, seed=47).to_csv(source, index=False)
    job = plan_batch(
        model_workspace, MODEL, str(source), str(tmp_path / "o"), partition_bytes=10_000
    )
    assert job.partitions_total > 2
    new_customers(500, seed=48).to_csv(source, index=False)  # rewritten before it ran
    with pytest.raises(ConflictError, match=r"in\.csv changed since the job was planned"):
        run_batch(model_workspace, job.id, executor=local_executor)
    assert model_workspace.jobs.get(job.id).status is JobStatus.FAILED
    source.unlink()
    with pytest.raises(ConflictError, match=r"in\.csv was removed since the job was planned"):
        run_batch(model_workspace, job.id, executor=local_executor)
