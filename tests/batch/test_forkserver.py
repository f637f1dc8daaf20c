"""A batch job's workers are forked from multiprocessing's fork server, which imported
for them, through multiprocessing's public API only; a ``kill -9`` of the driver
still leaves none of them running, even while the server is importing."""

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
from tests.batch import _probe
from tests.batch.conftest import new_customers

DRIVER = Path(__file__).with_name("_job_driver.py")

# Fork servers exist on POSIX; elsewhere a job spawns its workers, which
# tests/batch/test_workers.py runs too (test_without_fork_servers_a_jobs_workers_...).
pytestmark = pytest.mark.skipif(
    not _forkserver.available(), reason="fork servers need POSIX descriptor passing"
)


def _states(workers: JobWorkers, folder: Path) -> list[dict[str, Any]]:
    folder.mkdir()
    futures = [workers.submit(_probe.state, str(folder), 2) for _ in range(2)]
    return [f.result(timeout=120) for f in futures]


def test_a_jobs_workers_are_forked_from_the_server_that_imported_for_them(
    tmp_path: Path,
) -> None:
    with JobWorkers(2, ("xgboost",)) as workers:
        states = _states(workers, tmp_path / "round")
        server = workers.server_pid
    assert len({s["pid"] for s in states}) == 2
    assert server is not None and server != os.getpid()
    assert all(s["parent"] == server for s in states)
    # the preload module is imported by the server only: the workers inherited it
    assert all(s["preloaded"] for s in states)
    assert all(s["xgboost"] for s in states)


def test_a_workers_pyarrow_converts_to_pandas(tmp_path: Path) -> None:
    with JobWorkers(2, ()) as workers:
        rows = workers.submit(_probe.to_pandas_rows).result(timeout=120)
    assert rows == 3


def test_the_native_and_pipeline_flavors_score_alike_in_a_forked_worker(
    model_workspace: Workspace, tmp_path: Path
) -> None:
    version = model_workspace.models.get("churn:production")
    package = model_workspace.models.package_path(version)
    rows = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pandas(new_customers(300, seed=71), preserve_index=False), rows)
    with JobWorkers(1, ("xgboost",)) as workers:
        result = workers.submit(
            _probe.native_then_pipeline, str(package), version.package_digest, str(rows)
        ).result(120)
    # native when it kept parity at training, else the next compiled flavor
    assert result["flavors"] in (["native", "pipeline"], ["onnx", "pipeline"])
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


def _fork_servers(pid: int) -> list[psutil.Process]:
    """The children of ``pid`` that run multiprocessing's fork server."""
    found = []
    for child in psutil.Process(pid).children():
        try:
            if any("forkserver" in part for part in child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_kill_9_of_the_driver_kills_the_server_and_every_worker(driver_factory: Any) -> None:
    driver = driver_factory()
    driver.submit()
    reports = driver.reports()
    server = reports[0]["server"]
    assert len({r["pid"] for r in reports}) == 2
    assert all(r["parent"] == server for r in reports)  # forked by the server
    assert psutil.Process(server).ppid() == driver.process.pid
    assert len(driver.survivors()) >= 4  # driver, server, two workers (and helpers)
    driver.process.send_signal(signal.SIGKILL)
    driver.process.wait(timeout=30)
    driver.wait_for_no_survivor()


def test_kill_9_of_the_driver_while_its_server_imports_leaves_nothing_running(
    driver_factory: Any, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    driver = driver_factory(gate)
    deadline = time.monotonic() + 60
    while not (servers := _fork_servers(driver.process.pid)):
        assert time.monotonic() < deadline, "no fork server started"
        time.sleep(0.01)
    (server,) = servers
    assert server.is_running()  # held in its imports
    driver.process.send_signal(signal.SIGKILL)
    driver.process.wait(timeout=30)
    # the server goes on importing; then it sees the driver gone and exits, and any
    # worker it forked meanwhile finds the driver gone and exits too
    gate.touch()
    driver.wait_for_no_survivor()
