"""Train: the algorithm catalog and the training job (fit, evaluate, package, register)."""

from modelyard.training._catalog import (
    ALGORITHMS,
    Algorithm,
    Task,
    available_threads,
    get_algorithm,
)
from modelyard.training._job import TrainingResult, train
from modelyard.training._progress import STAGES, TrainingProgress
from modelyard.training._report import export_report
from modelyard.training._reproduce import ReproduceResult, reproduce
from modelyard.training._spec import TrainingSpec

__all__ = [
    "ALGORITHMS",
    "STAGES",
    "Algorithm",
    "ReproduceResult",
    "Task",
    "TrainingProgress",
    "TrainingResult",
    "TrainingSpec",
    "available_threads",
    "export_report",
    "get_algorithm",
    "reproduce",
    "train",
]
