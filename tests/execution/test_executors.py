"""One contract, every executor: the local process pool and Ray."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelyard.errors import ConfigurationError, MissingDependencyError
from modelyard.execution import Executor, LocalExecutor, RayExecutor, executor_from_settings
from modelyard.settings import load_settings
from tests._markers import needs_two_cores
from tests.execution import _work


@pytest.fixture(params=["local", pytest.param("ray", marks=pytest.mark.slow)])
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    if request.param == "local":
        built: Executor = LocalExecutor(max_workers=2)
    else:
        request.getfixturevalue("ray_session")
        built = RayExecutor()
    with built:
        yield built


class TestExecutorContract:
    """What every Executor promises (see the Executor docstring)."""

    def test_submit_returns_the_result(self, executor: Executor) -> None:
        assert executor.submit(_work.square, 7).result(timeout=60) == 49

    def test_exception_comes_back_with_type_and_message(self, executor: Executor) -> None:
        future = executor.submit(_work.fail, "bad partition 3")
        with pytest.raises(ValueError, match="bad partition 3"):
            future.result(timeout=60)

    def test_as_completed_yields_each_item_as_it_finishes(
        self, executor: Executor, tmp_path: Path
    ) -> None:
        gate = tmp_path / "gate"
        seen: list[tuple[int, int]] = []
        items = [(0, str(gate)), (1, None), (2, None)]
        stream = executor.as_completed(
            _work.gated_identity, items, lambda d, t: seen.append((d, t))
        )
        first = [next(stream), next(stream)]  # item 0 cannot finish before the gate opens
        assert sorted(first) == [(1, 1), (2, 2)]
        gate.touch()
        assert list(stream) == [(0, 0)]
        assert seen == [(1, 3), (2, 3), (3, 3)]

    def test_map_keeps_input_order(self, executor: Executor) -> None:
        assert executor.map(_work.square, [(n,) for n in range(10)]) == [n * n for n in range(10)]

    def test_map_raises_the_first_failure(self, executor: Executor) -> None:
        with pytest.raises(ValueError, match="boom"):
            executor.map(_work.fail, [("boom",)])

    def test_workers_keep_per_process_state(self, executor: Executor) -> None:
        results = executor.map(_work.cached_state, [(n,) for n in range(8)])
        by_pid: dict[int, set[int]] = {}
        for pid, stamp in results:
            by_pid.setdefault(pid, set()).add(stamp)
        assert len(by_pid) <= executor.workers
        assert all(len(stamps) == 1 for stamps in by_pid.values())  # built once per process

    def test_workers_is_positive(self, executor: Executor) -> None:
        assert executor.workers >= 1

    def test_submit_after_shutdown_is_refused(self, executor: Executor) -> None:
        executor.shutdown()
        with pytest.raises(RuntimeError):
            executor.submit(_work.square, 2)


def test_local_executor_uses_settings_max_workers(tmp_path: Any) -> None:
    settings = load_settings(tmp_path, max_workers=3)
    with executor_from_settings(settings) as built:
        assert isinstance(built, LocalExecutor)
        assert built.workers == 3


def test_zero_workers_means_one_per_core() -> None:
    import os

    with LocalExecutor(0) as built:
        assert built.workers == (os.cpu_count() or 1)


def test_unknown_executor_name_is_a_configuration_error(tmp_path: Any) -> None:
    with pytest.raises(ConfigurationError, match="unknown executor 'spark'"):
        executor_from_settings(load_settings(tmp_path), "spark")


def test_ray_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an install without Ray looks like
    with pytest.raises(MissingDependencyError, match=r"modelyard\[ray\]"):
        RayExecutor()


def test_local_initializer_builds_per_process_state() -> None:
    with LocalExecutor(2, initializer=_work.remember, initargs=("model-v3",)) as built:
        assert built.map(_work.recall, [(n,) for n in range(4)]) == ["model-v3"] * 4


def test_where_no_core_can_be_kept_workers_start_on_the_callers_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A system without core affinity, or with one core, keeps nothing back: the
    case the core-split tests below skip off CI, run here on CI's machine too. The
    pool starts early and works, and no process's cores change."""
    from modelyard.execution import _local

    monkeypatch.setattr(_local, "usable_cores", lambda: None)  # as without affinity
    cores = tuple(sorted(os.sched_getaffinity(0)))
    with LocalExecutor(2, initializer=_work.remember_cores) as pool:
        pool.start_workers()
        assert tuple(sorted(os.sched_getaffinity(0))) == cores
        results = set(pool.map(_work.cores, [(n,) for n in range(4)]))
    assert results == {(cores, cores)}  # started on every core: none was kept


@needs_two_cores
def test_workers_started_early_leave_the_caller_a_core_until_they_are_ready(
    tmp_path: Path,
) -> None:
    cores = set(os.sched_getaffinity(0))
    gate = tmp_path / "gate"
    before = {child.pid for child in multiprocessing.active_children()}
    with LocalExecutor(2, initializer=_work.wait_for, initargs=(str(gate),)) as pool:
        pool.start_workers()
        assert os.sched_getaffinity(0) == cores  # the caller keeps every core
        workers = [c.pid for c in multiprocessing.active_children() if c.pid not in before]
        assert [os.sched_getaffinity(pid) for pid in workers] == [cores - {min(cores)}] * 2
        gate.touch()  # their initializers return: each worker takes every core
        deadline = time.monotonic() + 60
        while any(os.sched_getaffinity(pid) != cores for pid in workers):
            assert time.monotonic() < deadline, "workers still kept off a core"
            time.sleep(0.01)


@needs_two_cores
def test_workers_started_by_a_first_submit_start_on_every_core() -> None:
    cores = tuple(sorted(os.sched_getaffinity(0)))
    with LocalExecutor(2, initializer=_work.remember_cores) as pool:
        results = set(pool.map(_work.cores, [(n,) for n in range(4)]))
    assert results == {(cores, cores)}


@needs_two_cores
def test_starting_workers_take_every_core_once_the_caller_submits_work(tmp_path: Path) -> None:
    cores = set(os.sched_getaffinity(0))
    gate = tmp_path / "gate"
    before = {child.pid for child in multiprocessing.active_children()}
    with LocalExecutor(2, initializer=_work.wait_for, initargs=(str(gate),)) as pool:
        pool.start_workers()
        workers = [c.pid for c in multiprocessing.active_children() if c.pid not in before]
        assert len(workers) == 2
        # still in their initializer (waiting for the gate): kept off one core
        assert [os.sched_getaffinity(pid) for pid in workers] == [cores - {min(cores)}] * 2
        squared = pool.submit(_work.square, 3)
        assert [os.sched_getaffinity(pid) for pid in workers] == [cores] * 2
        gate.touch()
        assert squared.result() == 9
