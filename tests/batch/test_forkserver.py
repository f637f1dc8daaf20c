"""A batch job's workers are forked from one server of the job's own, which imported
for them: what they inherit, what they must not, and that a ``kill -9`` of the
driver still leaves none of them running, even while the server is importing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelyard.batch import _forkserver
from modelyard.batch._workers import JobWorkers
from modelyard.workspace import Workspace
from tests._markers import needs_two_cores
from tests.batch import _probe
from tests.batch.conftest import new_customers

DRIVER = Path(__file__).with_name("_job_driver.py")

# Job fork servers exist only on POSIX with Python 3.11 (whose popen_forkserver they
# repeat); elsewhere a job spawns its workers, which tests/batch/test_workers.py
# runs on CI too (test_without_fork_servers_a_jobs_workers_are_spawned_...).
# CI's machine has them: under CI these tests never skip, and fail without them.
pytestmark = pytest.mark.skipif(
    not _forkserver.available() and not os.environ.get("CI"),
    reason="job fork servers need POSIX descriptor passing and Python 3.11",
)


def _states(workers: JobWorkers, folder: Path) -> list[dict[str, Any]]:
    folder.mkdir()
    futures = [workers.submit(_probe.state, str(folder), 2) for _ in range(2)]
    return [f.result(timeout=120) for f in futures]


def test_a_jobs_workers_are_forked_from_one_server_that_imported_for_them(
    tmp_path: Path,
) -> None:
    workers = JobWorkers(2, ("xgboost",), pandas=False)
    try:
        server = workers.server_pid
        states = _states(workers, tmp_path / "round")
    finally:
        workers.shutdown()
    assert len({s["pid"] for s in states}) == 2
    assert server is not None
    assert all(s["parent"] == server for s in states)
    # the preload module is imported by the server only: the workers inherited it
    assert all(s["preloaded"] for s in states)
    assert not any(s["pandas"] for s in states)  # a job that does not capture
    assert all(s["xgboost_with_sklearn"] is False for s in states)  # imported lean
    assert all(s["sklearn"] == "absent" for s in states)  # and importable again
    assert not psutil.pid_exists(server)  # stopped with its workers


def test_a_capturing_jobs_workers_have_pandas_for_pyarrow(tmp_path: Path) -> None:
    with JobWorkers(2, (), pandas=True) as workers:
        states = _states(workers, tmp_path / "round")
        rows = workers.submit(_probe.to_pandas_rows).result(timeout=120)
    assert all(s["pandas"] for s in states)
    assert rows == 3


def test_a_pipeline_after_the_servers_lean_import_scores_like_the_native_flavor(
    model_workspace: Workspace, tmp_path: Path
) -> None:
    package = model_workspace.models.package_path(model_workspace.models.get("churn:production"))
    rows = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pandas(new_customers(300, seed=71), preserve_index=False), rows)
    with JobWorkers(1, ("xgboost",), pandas=False) as workers:
        result = workers.submit(_probe.native_then_pipeline, str(package), str(rows)).result(120)
    assert result["flavors"] == ["native", "pipeline"]
    native, pipeline = result["probabilities"]
    assert max(abs(a - b) for a, b in zip(native, pipeline, strict=True)) < 1e-6


class _Driver:
    """``_job_driver.py`` as a real process; every process it starts carries a marker
    in its environment, so a test can find any that outlived it."""

    def __init__(self, tmp_path: Path, gate: Path | None = None) -> None:
        self.marker = uuid.uuid4().hex
        env = {**os.environ, "MODELYARD_TEST_MARKER": self.marker}
        if gate is not None:
            env["MODELYARD_TEST_GATE"] = str(gate)
        self.process = subprocess.Popen(
            [sys.executable, str(DRIVER), str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        self.started = self._line()

    def _line(self) -> Any:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        line = stdout.readline()
        assert line, self.process.stderr.read() if self.process.stderr else ""
        return json.loads(line)

    def submit(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("submit\n")
        self.process.stdin.flush()

    def reports(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._line()
        return result

    def survivors(self) -> list[psutil.Process]:
        """Processes still running with this driver's marker."""
        found = []
        for process in psutil.process_iter():
            try:
                if process.environ().get("MODELYARD_TEST_MARKER") == self.marker:
                    found.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return [p for p in found if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]

    def wait_for_no_survivor(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while survivors := self.survivors():
            assert time.monotonic() < deadline, f"still running: {survivors}"
            time.sleep(0.05)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        for process in self.survivors():  # a failed test leaves nothing behind
            process.kill()


@pytest.fixture
def driver_factory(tmp_path: Path) -> Iterator[Any]:
    drivers: list[_Driver] = []

    def start(gate: Path | None = None) -> _Driver:
        drivers.append(_Driver(tmp_path, gate))
        return drivers[-1]

    yield start
    for driver in drivers:
        driver.close()


def test_kill_9_of_the_driver_kills_the_server_and_every_worker(driver_factory: Any) -> None:
    driver = driver_factory()
    server = driver.started["server"]
    driver.submit()
    reports = driver.reports()
    assert len({r["pid"] for r in reports}) == 2
    assert all(r["parent"] == server for r in reports)  # forked by the job's server
    assert len(driver.survivors()) >= 4  # driver, server, two workers (and helpers)
    driver.process.send_signal(signal.SIGKILL)
    driver.process.wait(timeout=30)
    driver.wait_for_no_survivor()


def test_kill_9_of_the_driver_while_its_server_imports_leaves_nothing_running(
    driver_factory: Any, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    driver = driver_factory(gate)
    server = psutil.Process(driver.started["server"])
    assert server.is_running()  # held in its imports, before it could ask to die
    driver.process.send_signal(signal.SIGKILL)
    driver.process.wait(timeout=30)
    # the server goes on importing, and may fork the worker the driver asked for
    # before it died: that worker finds the driver gone, and exits; then the server
    gate.touch()
    driver.wait_for_no_survivor()


@needs_two_cores
def test_the_server_leaves_the_driver_a_core_until_it_submits_work(
    driver_factory: Any, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    driver = driver_factory(gate)
    cores = set(driver.started["cores"])
    server = driver.started["server"]
    assert os.sched_getaffinity(driver.process.pid) == cores  # the driver keeps every core
    assert os.sched_getaffinity(server) == cores - {min(cores)}  # importing beside it
    driver.submit()  # the driver hands over work: the server may take its core
    deadline = time.monotonic() + 60
    while os.sched_getaffinity(server) != cores:
        assert time.monotonic() < deadline, "the server still kept off a core"
        time.sleep(0.01)
    gate.touch()
    reports = driver.reports()
    assert [sorted(cores)] * 2 == [r["cores"] for r in reports]  # workers: every core
    assert driver.process.stdin is not None
    driver.process.stdin.close()
    assert driver.process.wait(timeout=60) == 0
    assert not psutil.pid_exists(server)
