"""The public surface of modelyard.evaluation is pinned."""

from __future__ import annotations

import modelyard.evaluation as evaluation

EXPECTED = {
    "METRICS",
    "Criterion",
    "Evaluation",
    "MetricInfo",
    "Task",
    "ThresholdChoice",
    "check_criteria",
    "choose_threshold",
    "classification_metrics",
    "compare_to_baselines",
    "evaluate_classification",
    "evaluate_regression",
    "permutation_importance",
    "regression_metrics",
    "render_report",
    "trivial_baselines",
}


def test_public_names_are_pinned() -> None:
    assert set(evaluation.__all__) == EXPECTED
    for name in evaluation.__all__:
        assert getattr(evaluation, name) is not None
