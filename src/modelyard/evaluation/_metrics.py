"""The metric catalogue and the functions that compute it.

Every metric a user can name (in a success criterion, a tuning objective, a
comparison) is listed in :data:`METRICS` with the tasks it applies to and its
direction, so parsing ``"rmse < 30000"`` and sorting runs share one source of truth.

Metrics that are undefined on the given rows (ROC AUC when only one class occurs,
R² on a single row, MAPE when every target is zero) are left out of the result
rather than reported as NaN: the result must stay JSON-safe, and a criterion on a
missing metric fails with a message that says so.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["METRICS", "MetricInfo", "Task", "metrics_for_task"]

Task = Literal["binary", "multiclass", "regression"]

TASKS: tuple[Task, ...] = ("binary", "multiclass", "regression")

_CLS: frozenset[Task] = frozenset({"binary", "multiclass"})
_BIN: frozenset[Task] = frozenset({"binary"})
_REG: frozenset[Task] = frozenset({"regression"})


class MetricInfo(NamedTuple):
    """What a metric name means.

    Attributes:
        tasks: the tasks the metric is computed for.
        greater_is_better: the direction, so callers can rank runs and check criteria.
        description: one line for reports and error messages.
    """

    tasks: frozenset[Task]
    greater_is_better: bool
    description: str


METRICS: dict[str, MetricInfo] = {
    "accuracy": MetricInfo(_CLS, True, "Share of rows whose predicted class is right."),
    "balanced_accuracy": MetricInfo(
        _CLS, True, "Mean recall over the classes present; robust to imbalance."
    ),
    "precision": MetricInfo(
        _CLS,
        True,
        "Binary: precision of the positive class at the chosen threshold; "
        "multiclass: support-weighted mean.",
    ),
    "recall": MetricInfo(
        _CLS,
        True,
        "Binary: recall of the positive class at the chosen threshold; "
        "multiclass: support-weighted mean.",
    ),
    "f1": MetricInfo(
        _CLS,
        True,
        "Binary: F1 of the positive class at the chosen threshold; "
        "multiclass: support-weighted mean.",
    ),
    "f1_macro": MetricInfo(_CLS, True, "Unweighted mean F1 over the classes."),
    "precision_macro": MetricInfo(_CLS, True, "Unweighted mean precision over the classes."),
    "recall_macro": MetricInfo(_CLS, True, "Unweighted mean recall over the classes."),
    "roc_auc": MetricInfo(
        _CLS, True, "Area under the ROC curve (multiclass: one-vs-rest, macro average)."
    ),
    "pr_auc": MetricInfo(
        _CLS, True, "Average precision, the area under the PR curve (multiclass: macro)."
    ),
    "log_loss": MetricInfo(_CLS, False, "Cross-entropy of the predicted probabilities."),
    "brier": MetricInfo(_BIN, False, "Mean squared error of the positive-class probability."),
    "rmse": MetricInfo(_REG, False, "Root mean squared error."),
    "mae": MetricInfo(_REG, False, "Mean absolute error."),
    "mape": MetricInfo(
        _REG, False, "Mean absolute percentage error as a fraction; rows with target 0 ignored."
    ),
    "r2": MetricInfo(_REG, True, "Coefficient of determination (R²)."),
    "explained_variance": MetricInfo(_REG, True, "Explained variance score."),
    "max_error": MetricInfo(_REG, False, "Largest absolute error on any row."),
    "median_absolute_error": MetricInfo(_REG, False, "Median absolute error."),
}


def metrics_for_task(task: str) -> list[str]:
    """The metric names that apply to ``task``, in catalogue order."""
    return [name for name, info in METRICS.items() if task in info.tasks]


def _put(out: dict[str, float], name: str, value: float) -> None:
    """Store a metric only when it is a finite number (JSON-safe)."""
    value = float(value)
    if math.isfinite(value):
        out[name] = value


def _in_catalogue_order(out: dict[str, float]) -> dict[str, float]:
    """The same metrics ordered as in METRICS, so tables read the same in every report."""
    return {name: out[name] for name in METRICS if name in out}


def classification_metrics(
    y: NDArray[np.int64], proba: NDArray[np.float64], pred: NDArray[np.int64]
) -> dict[str, float]:
    """Metrics for class indices ``y``, probabilities ``proba`` (n, k) and predictions ``pred``.

    For two columns, column 1 is the positive class and ``pred`` already reflects
    the chosen threshold.
    """
    from sklearn.metrics import (
        average_precision_score,
        confusion_matrix,
        log_loss,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    k = proba.shape[1]
    labels = list(range(k))
    out: dict[str, float] = {}
    _put(out, "accuracy", float(np.mean(y == pred)))
    cm = confusion_matrix(y, pred, labels=labels)
    support = cm.sum(axis=1)
    present = support > 0
    # sklearn's balanced_accuracy warns on classes absent from y_true, then drops them;
    # we drop them directly.
    _put(out, "balanced_accuracy", float(np.mean(np.diag(cm)[present] / support[present])))
    for average, suffix in (("macro", "_macro"), ("weighted", "")):
        p, r, f, _ = precision_recall_fscore_support(
            y, pred, labels=labels, average=average, zero_division=0
        )
        _put(out, "precision" + suffix, p)
        _put(out, "recall" + suffix, r)
        _put(out, "f1" + suffix, f)
    if k == 2:
        p, r, f, _ = precision_recall_fscore_support(
            y, pred, labels=[1], average=None, zero_division=0
        )
        _put(out, "precision", p[0])
        _put(out, "recall", r[0])
        _put(out, "f1", f[0])
        _put(out, "brier", float(np.mean((proba[:, 1] - (y == 1)) ** 2)))
    all_present = bool(present.all())
    if all_present:  # ranking metrics are undefined when a class never occurs
        if k == 2:
            _put(out, "roc_auc", roc_auc_score(y, proba[:, 1]))
            _put(out, "pr_auc", average_precision_score(y, proba[:, 1]))
        else:
            _put(out, "roc_auc", roc_auc_score(y, proba, multi_class="ovr", average="macro"))
            onehot = np.eye(k, dtype=np.int64)[y]
            _put(out, "pr_auc", average_precision_score(onehot, proba, average="macro"))
    _put(out, "log_loss", log_loss(y, proba, labels=labels))
    return _in_catalogue_order(out)


def regression_metrics(y: NDArray[np.float64], pred: NDArray[np.float64]) -> dict[str, float]:
    """Regression metrics; MAPE skips rows whose target is 0 (it is undefined there)."""
    from sklearn.metrics import explained_variance_score, r2_score

    err = y - pred
    out: dict[str, float] = {}
    _put(out, "rmse", math.sqrt(float(np.mean(err**2))))
    _put(out, "mae", float(np.mean(np.abs(err))))
    nonzero = y != 0
    if nonzero.any():
        _put(out, "mape", float(np.mean(np.abs(err[nonzero]) / np.abs(y[nonzero]))))
    if len(y) >= 2:  # sklearn warns and returns NaN for R² on fewer rows
        _put(out, "r2", r2_score(y, pred))
        _put(out, "explained_variance", explained_variance_score(y, pred))
    _put(out, "max_error", float(np.max(np.abs(err))))
    _put(out, "median_absolute_error", float(np.median(np.abs(err))))
    return _in_catalogue_order(out)
