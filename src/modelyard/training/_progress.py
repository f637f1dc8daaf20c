"""What a training job tells its caller while it runs.

A job has a fixed list of stages; each report says which one starts, as its number
out of the total, so a face can draw a bar (the CLI) or store a fraction (a job
record) without knowing the stages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["STAGES", "Progress", "TrainingProgress"]

STAGES = (
    "loading",
    "fitting",
    "choosing the decision threshold",
    "evaluating on the test split",
    "compiling to ONNX and checking parity",
    "packaging and registering",
)
"""The stages of a job, in order (a stage that does not apply is skipped)."""


@dataclass(frozen=True)
class TrainingProgress:
    """One stage of a job starting.

    Attributes:
        stage: the stage's position in :data:`STAGES`, from 1.
        stages: how many stages there are.
        message: what is being done, e.g. ``"fitting xgboost on 1,400 rows"``.
    """

    stage: int
    stages: int
    message: str

    def __str__(self) -> str:
        return self.message


Progress = Callable[[TrainingProgress], None]
"""A callback that receives each :class:`TrainingProgress` report."""


def reporter(progress: Progress | None) -> Callable[[str, str], None]:
    """``say(stage, message)`` calling ``progress`` with the stage's number."""

    def say(stage: str, message: str) -> None:
        if progress is not None:
            progress(TrainingProgress(STAGES.index(stage) + 1, len(STAGES), message))

    return say
