"""Batch transform: score files of any size with a registered model, in parallel,
with bounded memory, resumable after a crash (SageMaker Batch Transform, locally)."""

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
