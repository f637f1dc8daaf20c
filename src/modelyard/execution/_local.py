"""The local executor: a pool of worker processes on this machine."""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, TypeVar

from modelyard.execution._base import Executor

__all__ = ["LocalExecutor"]

R = TypeVar("R")
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the thread that started it dies.

    Without it, ``kill -9`` of a batch job leaves its workers running orphaned,
    still scoring partitions nobody will record. (A batch job's fork server asks
    it too: :mod:`modelyard.batch._preload`.)
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: best effort only
        return


def _start_worker(
    lineage: tuple[int, ...],
    initializer: Callable[..., object] | None,
    initargs: tuple[Any, ...],
    cores: frozenset[int] | None = None,
) -> None:
    die_with_parent()
    if not _descends_from(lineage):  # an ancestor died before prctl took effect:
        os.kill(os.getpid(), signal.SIGKILL)  # die as prctl would have made it
    if initializer is not None:
        initializer(*initargs)
    if cores is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)  # started (see start_workers): every core again


def _descends_from(lineage: tuple[int, ...]) -> bool:
    """Whether this process's parent is ``lineage[0]``, whose parent is ``lineage[1]``,
    and so on: each still alive, as a process whose parent died is handed to another.

    Checked after :func:`die_with_parent`, it proves the chain of deaths holds: a
    worker forked by a job's server checks the server's parent too, since the
    server itself only asks to die with the driver once it has imported (see
    :mod:`modelyard.batch._preload`), by when the driver may be gone.
    """
    if os.getppid() != lineage[0]:
        return False
    if not sys.platform.startswith("linux"):  # no /proc, and no PR_SET_PDEATHSIG either
        return True
    for child, parent in itertools.pairwise(lineage):
        try:
            stat = Path(f"/proc/{child}/stat").read_text()
        except OSError:  # gone
            return False
        # pid (command) state ppid ...: the command may hold spaces and parentheses
        if int(stat.rpartition(")")[2].split()[1]) != parent:
            return False
    return True


def usable_cores() -> frozenset[int] | None:
    """The cores this thread may run on, where the system says (Linux)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    return frozenset(os.sched_getaffinity(0))


@contextmanager
def one_core_kept() -> Iterator[frozenset[int] | None]:
    """Within: processes started by this thread run on every core but one (they
    inherit its affinity), which stays the caller's. Yields every core (``None``
    when nothing was kept: one core, or no affinity on this system)."""
    every = usable_cores()
    if every is None or len(every) < 2:
        yield None
        return
    os.sched_setaffinity(0, every - {min(every)})
    try:
        yield every
    finally:
        os.sched_setaffinity(0, every)


class LocalExecutor(Executor):
    """Work items in a process pool (``spawn``: safe beside threads and ONNX Runtime).

    Workers are started by the first :meth:`submit` (or :meth:`start_workers`) and
    die with the thread that started them (Linux ``PR_SET_PDEATHSIG``), so a
    ``kill -9`` of the driver leaves no orphan scoring partitions nobody will
    record: submit from a long-lived thread.
    With ``spawn``, a script using it must guard its entry point with
    ``if __name__ == "__main__":`` (as with any multiprocessing code).

    Args:
        max_workers: worker processes; 0 means one per core.
        initializer: called once in each worker process as it starts, to build
            per-process state (functions may also cache state lazily).
        initargs: arguments of ``initializer``.
    """

    def __init__(
        self,
        max_workers: int = 0,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        if max_workers < 0:
            raise ValueError("max_workers must be 0 (one per core) or more")
        self._workers = max_workers or os.cpu_count() or 1
        self._starting: list[int] = []  # workers still kept off the caller's core
        self._cores: frozenset[int] = frozenset()
        context, lineage = self._process_source()
        self._pool = ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(lineage, initializer, initargs, usable_cores()),
        )

    def _process_source(self) -> tuple[BaseContext, tuple[int, ...]]:
        """How worker processes start (``spawn``), and their expected ancestors, parent
        first: this process. A worker that finds another lineage (an ancestor died
        while it started) exits at once. Subclasses may start them elsewhere."""
        return multiprocessing.get_context("spawn"), (os.getpid(),)

    @property
    def workers(self) -> int:
        return self._workers

    def submit(self, fn: Callable[..., R], /, *args: Any) -> Future[R]:
        if self._starting:  # the caller hands over work: its core is free to take
            self._give_every_core()
        return self._pool.submit(fn, *args)

    def _give_every_core(self) -> None:
        for pid in self._starting:
            # a worker gone (or not ours to change) has nothing to gain
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, self._cores)
        self._starting = []

    def start_workers(self) -> None:
        """Start every worker process now rather than on first use, so their start-up
        (interpreter, imports, the initializer) overlaps whatever the caller does
        before submitting work. Each start runs in its own process: this returns at once.

        The workers start on every core but one, and take every core once their
        initializer is done or the caller submits work, whichever comes first: the
        caller's own work meanwhile (a batch job's driver planning, about two
        seconds of one core) keeps a core to itself instead of sharing all of them
        with the workers' start-up, which it would then wait for idle (measured on 2
        cores: the job planned 0.4 s sooner, and its workers were ready as soon).
        """
        before = {child.pid for child in multiprocessing.active_children()}
        # the pool starts one process per submit that finds no idle worker: one
        # trivial item per worker, submitted together, starts them all
        with one_core_kept() as cores:
            for _ in range(self._workers):
                self._pool.submit(os.getpid)
        if cores is not None:
            self._cores = cores
            self._starting = [
                pid
                for child in multiprocessing.active_children()
                if (pid := child.pid) is not None and pid not in before
            ]

    def shutdown(self, *, cancel_pending: bool = False) -> None:
        self._pool.shutdown(wait=True, cancel_futures=cancel_pending)

    def __repr__(self) -> str:
        return f"LocalExecutor(max_workers={self._workers})"
