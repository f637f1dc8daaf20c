"""The metric catalogue and the functions that compute it.

Every metric a user can name (in a success criterion, a tuning objective, a
comparison) is listed in :data:`METRICS` with the tasks it applies to and its
direction, so parsing ``"rmse < 30000"`` and sorting runs share one source of truth.

Metrics that are undefined on the given rows (ROC AUC when only one class occurs,
R² on a single row, MAPE when every target is zero) are left out of the result
rather than reported as NaN: the result must stay JSON-safe, and a criterion on a
missing metric fails with a message that says so.

The classification figures are computed here from one confusion matrix and, for
the ranking metrics, one sort of the scores per class (:class:`BinaryRanking`),
with the same arithmetic as scikit-learn's functions. Calling those functions cost
~70 ms per binary evaluation of 30,000 rows, nearly all of it their input checks
(``type_of_target``, ``np.unique``) repeated on the same arrays and a fresh sort
per curve; ``tests/evaluation/test_metrics_equivalence.py`` pins every figure to
scikit-learn's on random inputs.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["METRICS", "BinaryRanking", "MetricInfo", "Task", "metrics_for_task"]

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
    "f1_macro": MetricInfo(
        _CLS, True, "Unweighted mean F1 over the classes true or predicted in the rows."
    ),
    "precision_macro": MetricInfo(
        _CLS, True, "Unweighted mean precision over the classes true or predicted in the rows."
    ),
    "recall_macro": MetricInfo(
        _CLS, True, "Unweighted mean recall over the classes true or predicted in the rows."
    ),
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


class BinaryRanking:
    """A binary score's ranking, sorted once and shared by every curve and area.

    The figures equal scikit-learn's (``roc_curve``, ``precision_recall_curve``,
    ``roc_auc_score``, ``average_precision_score``, ``calibration_curve``): the same
    stable descending sort, the same cumulative counts at each distinct score (whole
    numbers, so exact) and the same divisions. scikit-learn re-validates and
    re-sorts for each of them; here the sort happens once, on first use.

    Args:
        positive: True where the row belongs to the positive class.
        score: the positive-class score per row (float64, finite).
    """

    def __init__(self, positive: NDArray[np.bool_], score: NDArray[np.float64]) -> None:
        self.positive = positive
        self.score = np.ascontiguousarray(score, dtype=np.float64)

    @cached_property
    def counts(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """``(fps, tps, thresholds)`` at each distinct score, highest score first.

        As ``sklearn.metrics.confusion_matrix_at_thresholds`` without weights.
        """
        n = len(self.score)
        if np.signbit(self.score).any():
            # -0.0 ties with 0.0 but prints differently: sort as sklearn does (stable,
            # descending: flip, sort, flip back) so a tie's threshold is the same element.
            order = (n - 1) - np.argsort(self.score[::-1], kind="stable")[::-1]
        else:
            # Tied scores are then bit-identical, and the counts at the end of a tie do
            # not depend on the order within it: the faster unstable sort is exact.
            order = np.argsort(self.score)[::-1]
        ranked = self.score[order]
        ends = np.concatenate([np.flatnonzero(np.diff(ranked)), [n - 1]])
        tps = np.cumsum(self.positive[order], dtype=np.float64)[ends]
        fps = 1 + ends.astype(np.float64) - tps
        return fps, tps, ranked[ends]

    @cached_property
    def roc(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(fpr, tpr)`` as ``roc_curve(drop_intermediate=True)``; needs both classes."""
        fps, tps, _ = self.counts
        if fps.shape[0] > 2:  # drop points collinear with their neighbours
            corner = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
            keep = np.flatnonzero(np.concatenate([[True], corner, [True]]))
            fps, tps = fps[keep], tps[keep]
        fps = np.concatenate([[0.0], fps])
        tps = np.concatenate([[0.0], tps])
        return fps / fps[-1], tps / tps[-1]

    @cached_property
    def pr(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """``(precision, recall, thresholds)`` as ``precision_recall_curve``; needs a positive.

        Thresholds ascend; precision and recall hold one more point (1, 0) at the end.
        """
        fps, tps, thresholds = self.counts
        ps = tps + fps  # never 0: every distinct score has at least one row
        precision = tps / ps
        recall = tps / tps[-1]
        return (
            np.concatenate([precision[::-1], [1.0]]),
            np.concatenate([recall[::-1], [0.0]]),
            thresholds[::-1],
        )

    def roc_auc(self) -> float:
        """``roc_auc_score``: the trapezoid area under :attr:`roc` (as ``sklearn.metrics.auc``)."""
        fpr, tpr = self.roc
        # scipy.integrate.trapezoid's arithmetic, without importing scipy.integrate
        return float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2.0))

    def average_precision(self) -> float:
        """``average_precision_score``: the step integral of :attr:`pr`."""
        precision, recall, _ = self.pr
        return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))

    def calibration(self, n_bins: int = 10) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(fraction_positive, mean_predicted)`` as ``calibration_curve(strategy="uniform")``."""
        bins = np.linspace(0.0, 1.0, n_bins + 1)
        binids = np.searchsorted(bins[1:-1], self.score)
        bin_sums = np.bincount(binids, weights=self.score, minlength=n_bins)
        bin_true = np.bincount(binids, weights=self.positive, minlength=n_bins)
        bin_total = np.bincount(binids, minlength=n_bins)
        nonzero = bin_total != 0
        return bin_true[nonzero] / bin_total[nonzero], bin_sums[nonzero] / bin_total[nonzero]


def confusion_counts(y: NDArray[np.int64], pred: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """``(k, k)`` counts, rows = true class, columns = predicted (``confusion_matrix``)."""
    return np.bincount(y * k + pred, minlength=k * k).reshape(k, k)


def _divide(
    numerator: NDArray[np.float64], denominator: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Element-wise division giving 0 where the denominator is 0 (``zero_division=0``)."""
    zero = denominator == 0
    result = numerator / np.where(zero, 1.0, denominator)
    result[zero] = 0.0
    return result


def per_class_scores(
    cm: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Per-class precision, recall, F1 and support from a confusion matrix.

    As ``precision_recall_fscore_support(average=None, zero_division=0)``, with its
    arithmetic: F1 = 2 tp / (support + predicted), not from the rounded ratios.
    """
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    precision = _divide(tp, predicted.astype(np.float64))
    recall = _divide(tp, support.astype(np.float64))
    f1 = _divide(2.0 * tp, 1.0 * support.astype(np.float64) + predicted.astype(np.float64))
    return precision, recall, f1, support


def _weighted_mean(values: NDArray[np.float64], weights: NDArray[np.int64]) -> float:
    """``average="weighted"``: sklearn's ``sum(values * weights) / sum(weights)``."""
    w = weights.astype(np.float64)
    return float(np.sum(values * w) / np.sum(w))


def _log_loss(y: NDArray[np.int64], proba: NDArray[np.float64]) -> float:
    """``log_loss(y, proba, labels=range(k))``: probabilities clipped to [eps, 1 - eps]."""
    eps = np.finfo(proba.dtype).eps
    chosen = np.clip(proba[np.arange(len(y)), y], eps, 1 - eps)
    return float(np.mean(-np.log(chosen)))


def classification_metrics(
    y: NDArray[np.int64],
    proba: NDArray[np.float64],
    pred: NDArray[np.int64],
    *,
    ranking: BinaryRanking | None = None,
) -> dict[str, float]:
    """Metrics for class indices ``y``, probabilities ``proba`` (n, k) and predictions ``pred``.

    For two columns, column 1 is the positive class and ``pred`` already reflects
    the chosen threshold. ``ranking`` is the binary :class:`BinaryRanking` of
    ``proba[:, 1]`` when the caller already holds it (its curves are shared).
    """
    k = proba.shape[1]
    out: dict[str, float] = {}
    _put(out, "accuracy", float(np.mean(y == pred)))
    cm = confusion_counts(y, pred, k)
    precision, recall, f1, support = per_class_scores(cm)
    present = support > 0
    # sklearn's balanced_accuracy warns on classes absent from y_true, then drops them;
    # we drop them directly.
    _put(out, "balanced_accuracy", float(np.mean(np.diag(cm)[present] / support[present])))
    # Macro averages run over the labels that occur in y or in pred, as scikit-learn's
    # default labels do: a class absent from both says nothing about the model, and
    # counting it as 0 would understate every macro figure.
    used = present | (cm.sum(axis=0) > 0)
    for name, values in (("precision", precision), ("recall", recall), ("f1", f1)):
        _put(out, name + "_macro", float(np.mean(values[used])))
        _put(out, name, _weighted_mean(values, support))
    if k == 2:
        _put(out, "precision", precision[1])
        _put(out, "recall", recall[1])
        _put(out, "f1", f1[1])
        _put(out, "brier", float(np.mean((proba[:, 1] - (y == 1)) ** 2)))
    if bool(present.all()):  # ranking metrics are undefined when a class never occurs
        if k == 2:
            binary = ranking if ranking is not None else BinaryRanking(y == 1, proba[:, 1])
            _put(out, "roc_auc", binary.roc_auc())
            _put(out, "pr_auc", binary.average_precision())
        else:  # one-vs-rest, macro: the plain mean over the classes (as sklearn)
            rankings = [BinaryRanking(y == c, proba[:, c]) for c in range(k)]
            _put(out, "roc_auc", float(np.mean([r.roc_auc() for r in rankings])))
            _put(out, "pr_auc", float(np.mean([r.average_precision() for r in rankings])))
    _put(out, "log_loss", _log_loss(y, proba))
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
