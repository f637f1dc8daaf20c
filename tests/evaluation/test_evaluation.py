"""Binary, multiclass and regression evaluations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from modelyard.errors import InvalidInputError
from modelyard.evaluation import Evaluation, evaluate_classification, evaluate_regression
from modelyard.evaluation._evaluation import MAX_CURVE_POINTS


def _binary(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1)
    return y, p


def test_binary_uses_the_chosen_threshold_everywhere() -> None:
    y, p = _binary()
    labels = np.where(y == 1, "churn", "stay")
    ev = evaluate_classification(pd.Series(labels), np.c_[1 - p, p], ["stay", "churn"])
    assert ev.task == "binary" and ev.labels == ["stay", "churn"]
    assert ev.threshold is not None and ev.threshold.strategy == "f1"
    pred = (p >= ev.threshold.threshold).astype(int)
    assert ev.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert ev.metrics["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert ev.metrics["f1"] == pytest.approx(ev.threshold.f1)
    assert ev.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p))
    assert ev.confusion_matrix == skm.confusion_matrix(y, pred).tolist()
    assert ev.per_class["churn"]["support"] == float(y.sum())
    assert set(ev.curves) == {"roc", "pr", "calibration", "threshold_sweep"}
    assert len(ev.curves["roc"]["fpr"]) == len(ev.curves["roc"]["tpr"])
    restored = json.loads(json.dumps(ev.to_dict(), allow_nan=False))
    assert restored["threshold"]["threshold"] == ev.threshold.threshold


def test_binary_threshold_strategy_changes_the_confusion_matrix() -> None:
    y, p = _binary()
    strict = evaluate_classification(y, np.c_[1 - p, p], [0, 1], "precision:0.95")
    default = evaluate_classification(y, np.c_[1 - p, p], [0, 1], "default")
    assert default.threshold is not None and default.threshold.threshold == 0.5
    assert strict.metrics["precision"] >= 0.95
    assert strict.metrics["recall"] < default.metrics["recall"]
    assert strict.metrics["roc_auc"] == default.metrics["roc_auc"]


def test_binary_with_one_class_present_leaves_undefined_parts_out() -> None:
    p = np.array([0.2, 0.7, 0.9])
    ev = evaluate_classification([1, 1, 1], np.c_[1 - p, p], [0, 1])
    assert "roc_auc" not in ev.metrics and "roc" not in ev.curves and "pr" in ev.curves
    json.dumps(ev.to_dict(), allow_nan=False)


def test_multiclass_uses_argmax() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    proba = rng.dirichlet([1, 1, 1], size=300)
    proba[np.arange(300), y] += 1.0
    proba /= proba.sum(axis=1, keepdims=True)
    classes = np.array(["a", "b", "c"])
    ev = evaluate_classification(classes[y], proba, classes)
    pred = proba.argmax(axis=1)
    assert ev.task == "multiclass" and ev.threshold is None and ev.curves == {}
    assert ev.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert ev.metrics["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert ev.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert ev.confusion_matrix == skm.confusion_matrix(y, pred).tolist()
    assert set(ev.per_class) == {"a", "b", "c"}
    json.dumps(ev.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    ("y", "proba", "classes", "fragment"),
    [
        ([0, 1], [[0.5, 0.5]], [0, 1], "shape"),
        ([0, 1], [[0.5, 0.5], [0.2, 0.8]], [0], "two distinct"),
        ([0, 2], [[0.5, 0.5], [0.2, 0.8]], [0, 1], "not in classes"),
        ([0, 1], [[0.5, 0.6], [0.2, 0.8]], [0, 1], "sum to 1"),
        ([0, 1], [[1.5, -0.5], [0.2, 0.8]], [0, 1], "probabilities"),
        ([0, 1], [[0.5, 0.5], [0.2, 0.8]], [0, 1], "strategy"),
    ],
)
def test_classification_refuses_bad_input(
    y: list[int], proba: list[list[float]], classes: list[int], fragment: str
) -> None:
    strategy = "bogus" if fragment == "strategy" else "f1"
    with pytest.raises(InvalidInputError, match=fragment):
        evaluate_classification(y, np.asarray(proba), classes, strategy)


def test_regression_evaluation_and_downsampled_residuals() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(100, 10, 5000)
    pred = y + rng.normal(0, 2, 5000)
    ev = evaluate_regression(y, pred)
    assert isinstance(ev, Evaluation) and ev.task == "regression"
    assert ev.metrics["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert ev.metrics["mape"] == pytest.approx(skm.mean_absolute_percentage_error(y, pred))
    assert ev.confusion_matrix is None and ev.threshold is None
    residuals = ev.curves["residuals"]
    assert len(residuals["actual"]) == MAX_CURVE_POINTS
    assert residuals["residual"][0] == pytest.approx(
        residuals["actual"][0] - residuals["predicted"][0]
    )
    json.dumps(ev.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    ("y", "pred"), [([1.0, 2.0], [1.0]), ([], []), ([1.0, np.nan], [1.0, 2.0]), (["a"], [1.0])]
)
def test_regression_refuses_bad_input(y: list[object], pred: list[float]) -> None:
    with pytest.raises(InvalidInputError):
        evaluate_regression(y, pred)  # type: ignore[arg-type]


def test_to_dict_equals_a_deep_conversion() -> None:
    import dataclasses

    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 400)
    p = np.clip(0.3 * y + 0.7 * rng.random(400), 0, 1)
    ev = evaluate_classification(y, np.c_[1 - p, p], [0, 1])
    assert ev.threshold is not None and ev.curves
    assert ev.to_dict() == dataclasses.asdict(ev)
