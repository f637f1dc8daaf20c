"""``modelyard batch`` as a real subprocess: kill -9 and resume, bad input, --json."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelyard.batch import MANIFEST
from modelyard.jobs import JobStatus
from modelyard.workspace import Workspace
from tests.batch.conftest import new_customers
from tests.conftest import Cli

MODEL = "churn:production"


@pytest.fixture(scope="module")
def cli(model_workspace: Workspace) -> Cli:
    return Cli(model_workspace.settings.workspace)


def _parts(folder: Path) -> pd.DataFrame:
    table = pa.concat_tables(pq.read_table(p) for p in sorted(folder.glob("part-*.parquet")))
    return table.to_pandas().sort_values("customer_id").reset_index(drop=True)


def _wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@pytest.mark.slow
def test_kill_9_then_resume_scores_every_row_exactly_once(
    model_workspace: Workspace, cli: Cli, tmp_path: Path
) -> None:
    customers = new_customers(200_000, seed=40)
    source = tmp_path / "customers.parquet"
    pq.write_table(pa.Table.from_pandas(customers, preserve_index=False), source, 1_000)
    out = tmp_path / "killed"
    command = [
        sys.executable, "-m", "modelyard", "-w", str(cli.workspace), "batch", "predict",
        "--model", MODEL, "--input", str(source), "--output", str(out),
        "--keep", "customer_id,region", "--partition-rows", "1000",
    ]  # fmt: skip
    # Many small partitions: a partition's fixed cost (open, write, rename, record)
    # then keeps the job running for seconds after its first commit, so the kill
    # lands part-way even on a fast machine (with 20 partitions of the 10-tree
    # model, a job forked warm from its server finished before the test's kill).
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert process.stdout is not None
        first = process.stdout.readline().decode().split()
        assert first[:1] == ["job"], process.stderr.read().decode() if process.stderr else ""
        job_id = first[1]
        jobs = model_workspace.jobs
        total = jobs.get(job_id).partitions_total
        assert total == 200
        _wait_for(lambda: jobs.get(job_id).partitions_done >= 1, 120, "a committed partition")
        workers = psutil.Process(process.pid).children(recursive=True)
        # the job's workers are its fork server's children: the driver's grandchildren
        assert [p for p in workers if p.ppid() != process.pid], workers
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    killed = jobs.get(job_id)
    assert 1 <= killed.partitions_done < total, "killed too late to test a resume"
    assert killed.status is JobStatus.RUNNING  # nobody could record its end
    assert not (out / MANIFEST).exists()
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert alive == []  # the workers died with their parent

    resumed = cli("batch", "resume", job_id[:10], "--json")
    report = json.loads(resumed.stdout)
    assert report["job"]["status"] == "succeeded"
    assert report["manifest"]["rows_in"] == 200_000
    assert not list(out.glob(".tmp-*"))  # what the killed workers were writing is gone

    reference = tmp_path / "reference"
    cli(
        "batch", "predict", "--model", MODEL, "--input", str(source), "--output",
        str(reference), "--keep", "customer_id,region", "--partition-rows", "200000", "--json",
    )  # fmt: skip
    got, expected = _parts(out), _parts(reference)
    assert got["customer_id"].is_unique and len(got) == 200_000
    assert got["customer_id"].tolist() == sorted(customers["customer_id"])
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.slow
def test_cancelling_a_running_job_stops_it_and_resume_finishes_it(
    model_workspace: Workspace, cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "customers.parquet"
    table = pa.Table.from_pandas(new_customers(60_000, seed=43), preserve_index=False)
    pq.write_table(table, source, 5_000)
    out = tmp_path / "o"
    command = [
        sys.executable, "-m", "modelyard", "-w", str(cli.workspace), "batch", "predict",
        "--model", MODEL, "--input", str(source), "--output", str(out),
        "--partition-rows", "5000",
    ]  # fmt: skip
    env = {**os.environ, "MODELYARD_MAX_WORKERS": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert process.stdout is not None
        job_id = process.stdout.readline().decode().split()[1]
        jobs = model_workspace.jobs
        _wait_for(lambda: jobs.get(job_id).partitions_done >= 1, 120, "a committed partition")
        # the SDK call `batch cancel` makes, in-process: a CLI start-up can outlast the job
        assert jobs.cancel(job_id).status is JobStatus.CANCELLED
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    # a job that did not finish is not a success (issue 16 finding 11): exit 12
    assert process.returncode == 12, stderr
    assert b"cancelled" in stdout
    assert f"batch job {job_id} cancelled before it finished".encode() in stderr
    stopped = jobs.get(job_id)
    assert stopped.status is JobStatus.CANCELLED
    assert stopped.partitions_done < stopped.partitions_total == 12
    assert stopped.owner is None  # released once its partitions in flight were done
    assert not (out / MANIFEST).exists()
    resumed = json.loads(cli("batch", "resume", job_id, "--json").stdout)
    assert resumed["job"]["status"] == "succeeded"
    assert len(_parts(out)) == 60_000


@pytest.fixture(scope="module")
def small_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-input") / "customers.csv"
    new_customers(200, seed=41).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "{dir}/missing.csv"], "input not found: {dir}/missing.csv"),
        (["--input", "{dir}/nothing-*.parquet"], "no file matches {dir}/nothing-*.parquet"),
        (["--model", "ghost:production"], "model ghost not found"),
        (["--keep", "customer_id,shoe_size"], "cannot keep column(s) shoe_size: not in"),
        (["--format", "xlsx"], "unknown output format 'xlsx'"),
        (["--max-errors", "many"], "invalid --max-errors 'many'"),
    ],
)
def test_bad_input_is_one_clear_line_and_a_nonzero_exit(
    cli: Cli, small_input: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    base = {"--model": MODEL, "--input": str(small_input), "--output": str(tmp_path / "o")}
    given = dict(zip(args[::2], [a.format(dir=tmp_path) for a in args[1::2]], strict=True))
    options = [item for pair in {**base, **given}.items() for item in pair]
    result = cli("batch", "predict", *options, check=False)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message.format(dir=tmp_path) in lines[0]
    assert "Traceback" not in result.stderr


def test_max_errors_zero_fails_with_a_clear_message(
    cli: Cli, model_workspace: Workspace, tmp_path: Path
) -> None:
    customers = new_customers(300, seed=42).astype({"monthly_charges": object})
    customers.loc[[3, 7], "monthly_charges"] = "n/a?"
    source = tmp_path / "mixed.csv"
    customers.to_csv(source, index=False)
    out = tmp_path / "o"
    result = cli(
        "batch", "predict", "--model", MODEL, "--input", str(source), "--output", str(out),
        "--max-errors", "0", check=False,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "2 rejected rows exceed --max-errors 0" in result.stderr
    assert not (out / MANIFEST).exists()
    job_id = result.stdout.split()[1]
    shown = json.loads(cli("batch", "show", job_id, "--json").stdout)
    assert shown["status"] == "failed" and "--max-errors 0" in shown["error"]
    reasons = pq.read_table(out / "_errors").column("_reason").to_pylist()
    assert reasons == ["column 'monthly_charges' must be numeric"] * 2


def test_cancel_list_resume_show_with_json(
    model_workspace: Workspace, cli: Cli, small_input: Path, tmp_path: Path
) -> None:
    from modelyard.batch import plan_batch

    out = tmp_path / "o"
    job = plan_batch(model_workspace, MODEL, str(small_input), str(out), output_format="csv")
    cancelled = json.loads(cli("batch", "cancel", job.id[:12], "--json").stdout)
    assert cancelled["status"] == "cancelled"
    listed = json.loads(cli("batch", "list", "--status", "cancelled", "--json").stdout)
    assert job.id in [item["id"] for item in listed]
    report = json.loads(cli("batch", "resume", job.id, "--json").stdout)
    assert report["job"]["status"] == "succeeded"
    assert report["manifest"]["rows_out"] == 200
    assert len(pd.read_csv(out / report["manifest"]["parts"][0]["file"])) == 200
    shown = json.loads(cli("batch", "show", job.id[:8], "--json").stdout)
    assert shown["partitions"][0]["committed"] is True
    assert shown["partitions"][0]["rows_out"] == 200
    refused = cli("batch", "cancel", job.id, check=False)
    assert refused.exit_code == 4 and "already succeeded" in refused.stderr
    unknown = cli("batch", "show", "deadbeef", check=False)
    assert unknown.exit_code == 3 and "job deadbeef not found" in unknown.stderr


def test_resume_with_an_unknown_executor_is_refused_and_not_stored(
    model_workspace: Workspace, cli: Cli, small_input: Path, tmp_path: Path
) -> None:
    from modelyard.batch import plan_batch

    job = plan_batch(model_workspace, MODEL, str(small_input), str(tmp_path / "o"))
    refused = cli("batch", "resume", job.id, "--executor", "bogus", check=False)
    assert refused.exit_code == 2
    assert refused.stderr.strip() == "error: unknown executor 'bogus': use local or ray"
    assert model_workspace.jobs.get(job.id).params["executor"] is None
