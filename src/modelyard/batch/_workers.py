"""The local worker processes a batch job starts for itself, as early as it can.

A worker's start-up (a fresh interpreter, pyarrow, the model's library) takes about
a second of CPU. Started before the driver opens the workspace and plans the job
(about two seconds on one core), it runs on the core the driver leaves idle
instead of after it. This module imports nothing heavy, so the command line can
start the workers before its own imports.

Workers started here run one job's partitions and nothing else, so they import
XGBoost and LightGBM without scikit-learn
(:func:`~modelyard.batch._scorer.import_lean`).
"""

from __future__ import annotations

import contextlib
import importlib.util
from typing import TYPE_CHECKING

from modelyard.execution._local import LocalExecutor

if TYPE_CHECKING:
    from modelyard.execution import Executor
    from modelyard.settings import Settings

__all__ = ["JobWorkers", "job_workers", "start_worker"]


def start_worker(warm: tuple[str, ...] = (), pandas: bool = True) -> None:
    """Initializer of a job's worker process: marks it as the job's alone and imports
    what every partition needs, and ``warm`` (the model's library). Without
    ``pandas``, pyarrow is kept from importing it (:func:`~modelyard.batch._scorer.
    detach_pandas`): a job that captures nothing never needs it."""
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
    """Local worker processes for one batch job, started at once (see the module)."""

    def __init__(
        self, max_workers: int = 0, warm: tuple[str, ...] = (), *, pandas: bool = True
    ) -> None:
        super().__init__(max_workers, initializer=start_worker, initargs=(warm, pandas))
        self.start_workers()


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
