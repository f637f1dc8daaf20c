"""Batch transform: score files of any size with a registered model, in parallel,
with bounded memory, resumable after a crash (SageMaker Batch Transform, locally).

Names are imported on first use (PEP 562): a worker process unpickling
``modelyard.batch._partition.score_partition`` imports this package first, and
must not pay for the driver's job store, planning and SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelyard.batch._budget import ErrorBudget
    from modelyard.batch._manifest import MANIFEST
    from modelyard.batch._run import (
        BATCH_KIND,
        BatchResult,
        batch_predict,
        plan_batch,
        resume_batch,
        run_batch,
    )

_EXPORTS = {
    "BATCH_KIND": "modelyard.batch._run",
    "MANIFEST": "modelyard.batch._manifest",
    "BatchResult": "modelyard.batch._run",
    "ErrorBudget": "modelyard.batch._budget",
    "batch_predict": "modelyard.batch._run",
    "plan_batch": "modelyard.batch._run",
    "resume_batch": "modelyard.batch._run",
    "run_batch": "modelyard.batch._run",
}

__all__ = [
    "BATCH_KIND",
    "MANIFEST",
    "BatchResult",
    "ErrorBudget",
    "batch_predict",
    "plan_batch",
    "resume_batch",
    "run_batch",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'modelyard.batch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
