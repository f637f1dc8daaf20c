"""The local worker processes a batch job starts for itself, as early as it can.

A worker's start-up (pyarrow, the model's library) costs the better part of a
second of CPU. Where the platform has fork servers, the job's workers are forked
from multiprocessing's fork server, which imports all that once
(:mod:`modelyard.batch._forkserver`), so the job pays for it once, not once per
worker. The server is started from a thread of its own as the job is created, so
its imports run while the driver opens the workspace and plans the job; the
driver's first :meth:`JobWorkers.submit` waits for the workers. The server dies
with the thread that made the :class:`JobWorkers` (and its workers with it): make
them from a thread that outlives the job. This module
imports nothing heavy, so the command line can start the workers before its own
imports.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, Any, TypeVar

from modelyard.batch import _forkserver
from modelyard.execution._base import Executor
from modelyard.execution._local import LocalExecutor

if TYPE_CHECKING:
    from multiprocessing.context import ForkServerContext

    from modelyard.settings import Settings

__all__ = ["JobWorkers", "job_workers", "likely_library", "start_executor", "start_worker"]

R = TypeVar("R")


def start_worker(warm: tuple[str, ...] = ()) -> None:
    """Initializer of a job's worker process: imports what every partition needs, and
    ``warm`` (the model's library). In a worker forked from the fork server all that
    is done already, unless the server was started by an earlier job that preloaded
    another library."""
    import pyarrow.parquet  # noqa: F401  (every partition reads or writes Parquet)

    import modelyard.batch._partition  # noqa: F401  (the work item's module)

    for module in warm:
        # a library that will not import: loading the model says so, clearly
        with contextlib.suppress(ImportError):
            importlib.import_module(module)


class _ForkedWorkers(LocalExecutor):
    """A local pool whose workers the fork server forks: their parent is the server,
    whose parent is this process (the lineage each worker checks as it starts)."""

    def __init__(
        self, max_workers: int, context: ForkServerContext, server: int, warm: tuple[str, ...]
    ) -> None:
        self._context, self._server = context, server
        super().__init__(max_workers, initializer=start_worker, initargs=(warm,))

    def _process_source(self) -> tuple[BaseContext, tuple[int, ...]]:
        return self._context, (self._server, os.getpid())


class JobWorkers(Executor):
    """Local worker processes for one batch job, started at once (see the module):
    forked from the fork server where the platform has one, spawned otherwise.

    Args:
        max_workers: worker processes; 0 means one per core.
        warm: modules every worker imports as it starts (the model's library).
    """

    def __init__(self, max_workers: int = 0, warm: tuple[str, ...] = ()) -> None:
        self._workers = max_workers or os.cpu_count() or 1
        self.server_pid: int | None = None  # the fork server's, once it answered
        self._local: LocalExecutor | None = None
        self._start_error: BaseException | None = None
        self._starter: threading.Thread | None = None
        if _forkserver.available():
            context = _forkserver.forkserver_context(_forkserver.preload_modules(warm))
            _forkserver.start()  # from this thread: the server dies with it
            # the workers' parent is the server, not the thread that asks for them:
            # a thread of its own may wait for the server's imports and ask, and end
            self._starter = threading.Thread(
                target=self._start_forked,
                args=(context, warm),
                name="modelyard-job-workers",
                daemon=True,
            )
            self._starter.start()
        else:
            # spawned workers die with the thread that starts them: this one
            self._local = LocalExecutor(max_workers, initializer=start_worker, initargs=(warm,))
            self._local.start_workers()

    def _start_forked(self, context: ForkServerContext, warm: tuple[str, ...]) -> None:
        try:
            self.server_pid = _forkserver.server_pid(context)
            local = _ForkedWorkers(self._workers, context, self.server_pid, warm)
            local.start_workers()
            self._local = local
        except BaseException as error:  # raised by the caller's next submit
            self._start_error = error

    def _ready(self) -> LocalExecutor:
        if self._starter is not None:
            self._starter.join()
        if self._start_error is not None:
            raise BrokenProcessPool(
                f"the batch job's worker processes did not start: {self._start_error!r}"
            ) from self._start_error
        assert self._local is not None
        return self._local

    @property
    def workers(self) -> int:
        return self._workers

    def submit(self, fn: Callable[..., R], /, *args: Any) -> Future[R]:
        return self._ready().submit(fn, *args)

    def shutdown(self, *, cancel_pending: bool = False) -> None:
        with contextlib.suppress(BrokenProcessPool):
            self._ready().shutdown(cancel_pending=cancel_pending)

    def __repr__(self) -> str:
        return f"JobWorkers(max_workers={self._workers})"


def job_workers(
    settings: Settings, kind: str | None, warm: tuple[str, ...] = ()
) -> JobWorkers | None:
    """The job's local workers, started now; ``None`` when the job runs on Ray."""
    if (kind or settings.executor) != "local":
        return None
    return JobWorkers(settings.max_workers, warm)


def likely_library(flavor: str) -> tuple[str, ...]:
    """What a native-flavor job will most likely load, to import while the driver still
    plans (before it knows the model): XGBoost, when installed. A model of another
    library loads its own at first use; only the guess's import is wasted."""
    if flavor != "native" or importlib.util.find_spec("xgboost") is None:
        return ()
    return ("xgboost",)


def start_executor(settings: Settings, kind: str | None, warm: tuple[str, ...]) -> Executor:
    """The executor a job starts for itself: its own local workers, or Ray."""
    workers = job_workers(settings, kind, warm)
    if workers is not None:
        return workers
    from modelyard.execution import executor_from_settings

    return executor_from_settings(settings, kind)
