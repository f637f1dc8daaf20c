"""The public surface of modelyard.training is pinned."""

from __future__ import annotations

import modelyard.training as training

EXPECTED = {
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
}


def test_public_names_are_pinned() -> None:
    assert set(training.__all__) == EXPECTED
    for name in training.__all__:
        assert getattr(training, name) is not None
