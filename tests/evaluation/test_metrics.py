"""The metric catalogue and the metric values, checked by hand and against sklearn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from modelyard.evaluation import METRICS, MetricInfo
from modelyard.evaluation._metrics import (
    classification_metrics,
    metrics_for_task,
    regression_metrics,
)


def test_catalogue_lists_every_metric_with_direction() -> None:
    classification = {
        "accuracy", "balanced_accuracy", "precision", "recall", "f1", "f1_macro",
        "precision_macro", "recall_macro", "roc_auc", "pr_auc", "log_loss", "brier",
    }  # fmt: skip
    regression = {
        "rmse", "mae", "mape", "r2", "explained_variance", "max_error", "median_absolute_error",
    }  # fmt: skip
    assert set(METRICS) == classification | regression
    assert all(isinstance(info, MetricInfo) and info.description for info in METRICS.values())
    assert set(metrics_for_task("regression")) == regression
    assert set(metrics_for_task("binary")) == classification
    assert set(metrics_for_task("multiclass")) == classification - {"brier"}
    assert not METRICS["log_loss"].greater_is_better and METRICS["roc_auc"].greater_is_better
    assert not METRICS["rmse"].greater_is_better and METRICS["r2"].greater_is_better


def test_binary_metrics_match_hand_computed_values() -> None:
    y = np.array([0, 0, 1, 1, 1])
    p1 = np.array([0.1, 0.6, 0.7, 0.4, 0.9])
    pred = (p1 >= 0.5).astype(np.int64)  # [0, 1, 1, 0, 1]: tp=2, fp=1, fn=1, tn=1
    out = classification_metrics(y, np.c_[1 - p1, p1], pred)
    assert out["accuracy"] == pytest.approx(3 / 5)
    assert out["precision"] == pytest.approx(2 / 3)
    assert out["recall"] == pytest.approx(2 / 3)
    assert out["f1"] == pytest.approx(2 / 3)
    assert out["balanced_accuracy"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert out["brier"] == pytest.approx(np.mean((p1 - y) ** 2))
    # ranks: positives 0.7, 0.4, 0.9 vs negatives 0.1, 0.6 -> 5 of 6 pairs ordered
    assert out["roc_auc"] == pytest.approx(5 / 6)
    assert out["pr_auc"] == pytest.approx(skm.average_precision_score(y, p1))
    assert out["log_loss"] == pytest.approx(-np.mean(np.log(np.where(y == 1, p1, 1 - p1))))
    assert out["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"))


def test_multiclass_metrics_match_sklearn() -> None:
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    proba = np.array(
        [
            [0.7, 0.2, 0.1],
            [0.2, 0.5, 0.3],
            [0.1, 0.3, 0.6],
            [0.3, 0.4, 0.3],
            [0.1, 0.8, 0.1],
            [0.4, 0.5, 0.1],
            [0.2, 0.2, 0.6],
        ]
    )
    pred = proba.argmax(axis=1)
    out = classification_metrics(y, proba, pred)
    assert out["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert out["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert out["f1"] == pytest.approx(skm.f1_score(y, pred, average="weighted"))
    assert out["recall_macro"] == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert out["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert out["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert "brier" not in out


def test_ranking_metrics_are_left_out_when_a_class_never_occurs() -> None:
    y = np.array([1, 1, 1])
    p1 = np.array([0.2, 0.7, 0.9])
    out = classification_metrics(y, np.c_[1 - p1, p1], (p1 >= 0.5).astype(np.int64))
    assert "roc_auc" not in out and "pr_auc" not in out
    assert out["accuracy"] == pytest.approx(2 / 3)
    assert all(math.isfinite(v) for v in out.values())


def test_regression_metrics_match_hand_computed_values() -> None:
    y = np.array([3.0, 0.0, 2.0, 7.0])
    pred = np.array([2.5, 0.5, 2.0, 8.0])
    out = regression_metrics(y, pred)
    assert out["mae"] == pytest.approx((0.5 + 0.5 + 0 + 1) / 4)
    assert out["rmse"] == pytest.approx(math.sqrt((0.25 + 0.25 + 0 + 1) / 4))
    assert out["mape"] == pytest.approx((0.5 / 3 + 0 + 1 / 7) / 3)  # the y == 0 row is skipped
    assert out["max_error"] == pytest.approx(1.0)
    assert out["median_absolute_error"] == pytest.approx(0.5)
    assert out["r2"] == pytest.approx(skm.r2_score(y, pred))
    assert out["explained_variance"] == pytest.approx(skm.explained_variance_score(y, pred))
    assert list(out) == [m for m in METRICS if m in out]


def test_regression_metrics_undefined_on_the_rows_are_absent() -> None:
    out = regression_metrics(np.array([0.0]), np.array([1.0]))
    assert "mape" not in out and "r2" not in out and "explained_variance" not in out
    assert out["mae"] == 1.0
