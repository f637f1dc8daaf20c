"""The step kinds of a pipeline: ``from modelyard.pipelines import steps``."""

from modelyard.pipelines._steps import (
    BatchTransform,
    Compare,
    Condition,
    Deploy,
    Fail,
    Function,
    Ingest,
    Register,
    Step,
    Train,
)

__all__ = [
    "BatchTransform",
    "Compare",
    "Condition",
    "Deploy",
    "Fail",
    "Function",
    "Ingest",
    "Register",
    "Step",
    "Train",
]
