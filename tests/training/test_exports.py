"""The public surface of modelyard.training is pinned."""

from __future__ import annotations

import modelyard.training as training

EXPECTED = {
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
}


def test_public_names_are_pinned() -> None:
    assert set(training.__all__) == EXPECTED
    for name in training.__all__:
        assert getattr(training, name) is not None
