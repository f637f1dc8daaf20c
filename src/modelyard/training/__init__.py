"""Train: the algorithm catalog and the training job (fit, evaluate, package, register)."""

from modelyard.training._catalog import (
    ALGORITHMS,
    Algorithm,
    Task,
    available_threads,
    get_algorithm,
)
from modelyard.training._job import (
    TrainingInputs,
    TrainingResult,
    check_inputs,
    label_encoding,
    load_splits,
    train,
)
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
    "TrainingInputs",
    "TrainingProgress",
    "TrainingResult",
    "TrainingSpec",
    "available_threads",
    "check_inputs",
    "export_report",
    "get_algorithm",
    "label_encoding",
    "load_splits",
    "reproduce",
    "train",
]
