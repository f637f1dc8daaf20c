"""The local worker processes a batch job starts for itself, as early as it can.

A worker's start-up (pyarrow, the model's library) takes about 0.75 s of CPU. The
job's workers are forked from one server of its own that imports all that once
(:mod:`modelyard.batch._forkserver`), so the job pays for it once, not once per
worker. Started before the driver opens the workspace and plans the job (about
two seconds on one core), the server's imports run on the core the driver leaves
idle instead of after it. This module imports nothing heavy, so the command line
can start the workers before its own imports.

Workers started here run one job's partitions and nothing else, so they import
XGBoost and LightGBM without scikit-learn
(:func:`~modelyard.batch._scorer.import_lean`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, Any, TypeVar

from modelyard.batch import _forkserver
from modelyard.execution._local import LocalExecutor, one_core_kept

if TYPE_CHECKING:
    from modelyard.execution import Executor
    from modelyard.settings import Settings

__all__ = ["JobWorkers", "job_workers", "start_worker"]

R = TypeVar("R")


def start_worker(warm: tuple[str, ...] = (), pandas: bool = True) -> None:
    """Initializer of a job's worker process: marks it as the job's alone and imports
    what every partition needs, and ``warm`` (the model's library). Without
    ``pandas``, pyarrow is kept from importing it (:func:`~modelyard.batch._scorer.
    detach_pandas`): a job that captures nothing never needs it.

    In a worker forked from the job's server all that is done already (each step
    below finds it so), but for the server's refusal of scikit-learn, lifted here
    (:mod:`modelyard.batch._preload`): a pipeline-flavor model needs it."""
    if "sklearn" in sys.modules and sys.modules["sklearn"] is None:
        del sys.modules["sklearn"]
    import pyarrow.parquet  # noqa: F401  (every partition reads or writes Parquet)

    import modelyard.batch._partition  # noqa: F401  (the work item's module)
    from modelyard.batch._scorer import dedicate_process, detach_pandas, import_lean

    dedicate_process()
    if pandas:
        import pandas as _  # noqa: F401  (pyarrow imports it on its first conversion)
    else:
        detach_pandas()
    for module in warm:
        # a library that will not import: loading the model says so, clearly
        with contextlib.suppress(ImportError):
            import_lean(module)


class JobWorkers(LocalExecutor):
    """Local worker processes for one batch job, started at once (see the module):
    forked from the job's own server where the platform has fork servers, spawned
    otherwise.

    The server starts on every core but one, left to the caller (the driver
    planning), and takes every core once the caller submits work; the workers it
    forks take every core as they start (their imports are the server's).
    """

    def __init__(
        self, max_workers: int = 0, warm: tuple[str, ...] = (), *, pandas: bool = True
    ) -> None:
        self._server: _forkserver.JobServer | None = None
        self.server_pid: int | None = None  # the server's, once started
        if _forkserver.available():
            self._server = _forkserver.JobServer(_forkserver.preload_modules(warm, pandas))
        self._starter: threading.Thread | None = None
        self._start_error: BaseException | None = None
        super().__init__(max_workers, initializer=start_worker, initargs=(warm, pandas))
        self.start_workers()

    def _process_source(self) -> tuple[BaseContext, tuple[int, ...]]:
        if self._server is None:
            return super()._process_source()
        with one_core_kept() as cores:
            pid = self._server.start()  # from this thread: the server dies with it
        if cores is not None:
            self._cores, self._starting = cores, [pid]
        self.server_pid = pid
        return self._server.context, (pid, os.getpid())

    def start_workers(self) -> None:
        """Ask the server for every worker now. Each request returns once the server
        has forked the worker, after its imports: a thread of its own waits for that,
        so this returns at once, and the caller's first :meth:`submit` waits for it."""
        if self._server is None:
            super().start_workers()
            return
        self._starter = threading.Thread(
            target=self._request_workers, name="modelyard-job-workers", daemon=True
        )
        self._starter.start()

    def _request_workers(self) -> None:
        try:
            # the pool starts one process per submit that finds no idle worker (a
            # worker quick enough to answer first leaves one for the caller's submit)
            for _ in range(self.workers):
                self._pool.submit(os.getpid)
        except BaseException as error:  # raised by the caller's next submit
            self._start_error = error

    def _wait_for_workers(self) -> None:
        starter, self._starter = self._starter, None
        if starter is None:
            return
        starter.join()
        if self._start_error is not None:
            raise BrokenProcessPool(
                f"the batch job's worker processes did not start: {self._start_error!r}"
            ) from self._start_error

    def submit(self, fn: Callable[..., R], /, *args: Any) -> Future[R]:
        if self._starting:  # the server still importing takes the caller's core too
            self._give_every_core()
        self._wait_for_workers()
        return super().submit(fn, *args)

    def shutdown(self, *, cancel_pending: bool = False) -> None:
        with contextlib.suppress(BrokenProcessPool):
            self._wait_for_workers()
        super().shutdown(cancel_pending=cancel_pending)
        if self._server is not None:
            self._server.stop()


def job_workers(
    settings: Settings, kind: str | None, warm: tuple[str, ...] = (), *, pandas: bool = True
) -> JobWorkers | None:
    """The job's local workers, started now; ``None`` when the job runs on Ray.
    ``pandas``: whether its partitions need pyarrow's pandas conversions (a job that
    captures its traffic does)."""
    if (kind or settings.executor) != "local":
        return None
    return JobWorkers(settings.max_workers, warm, pandas=pandas)


def likely_library(flavor: str) -> tuple[str, ...]:
    """What a native-flavor job will most likely load, to import while the driver still
    plans (before it knows the model): XGBoost, when installed. A model of another
    library loads its own at first use; only the guess's import is wasted."""
    if flavor != "native" or importlib.util.find_spec("xgboost") is None:
        return ()
    return ("xgboost",)


def start_executor(
    settings: Settings, kind: str | None, warm: tuple[str, ...], *, pandas: bool = True
) -> Executor:
    """The executor a job starts for itself: its own local workers, or Ray."""
    workers = job_workers(settings, kind, warm, pandas=pandas)
    if workers is not None:
        return workers
    from modelyard.execution import executor_from_settings

    return executor_from_settings(settings, kind)
