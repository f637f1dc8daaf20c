"""Batch transform: score files of any size with a registered model, in parallel,
with bounded memory, resumable after a crash (SageMaker Batch Transform, locally).

Names are imported on first use (PEP 562): a worker process unpickling
``modelyard.batch._partition.score_partition`` imports this package first, and
must not pay for the driver's job store, planning and SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelyard._lazy import lazy_names

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


__getattr__, __dir__ = lazy_names(__name__, globals(), _EXPORTS, __all__)
