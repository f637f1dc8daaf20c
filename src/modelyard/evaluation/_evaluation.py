"""Evaluating predictions: metrics, per-class figures, confusion matrix and curves.

An :class:`Evaluation` holds everything the report and the tracking store need,
as plain JSON-safe values, so it can be logged as an artifact and rendered later
without the model or the data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from modelyard.errors import InvalidInputError
from modelyard.evaluation._metrics import (
    BinaryRanking,
    Task,
    classification_metrics,
    confusion_counts,
    per_class_scores,
    regression_metrics,
)
from modelyard.evaluation._threshold import ThresholdChoice, choose_threshold_on, f1_of

__all__ = ["MAX_CURVE_POINTS", "Evaluation", "evaluate_classification", "evaluate_regression"]

MAX_CURVE_POINTS = 2000
"""Curves and scatter data are downsampled to at most this many points: reports stay small."""


@dataclass
class Evaluation:
    """The result of evaluating a model on one split.

    Attributes:
        task: ``"binary"``, ``"multiclass"`` or ``"regression"``.
        metrics: metric name -> finite float; metrics undefined on the rows are absent.
        per_class: classification only: class label (as str) ->
            ``{"precision", "recall", "f1", "support"}``.
        confusion_matrix: rows = true class, columns = predicted class, in ``labels`` order.
        labels: the class labels as strings (classification only).
        threshold: the decision threshold (binary only), with the rows it was chosen on.
        curves: binary: ``roc`` (fpr, tpr), ``pr`` (precision, recall), ``calibration``
            (mean_predicted, fraction_positive), ``threshold_sweep`` (threshold,
            precision, recall, f1); regression: ``residuals`` (actual, predicted,
            residual = actual - predicted). At most :data:`MAX_CURVE_POINTS` points each.
        importance: ``[{"feature", "mean", "std"}]`` sorted by decreasing mean; empty
            until filled from :func:`~modelyard.evaluation.permutation_importance`.
        baselines: trivial predictor name (``"prior"``; ``"mean"``, ``"median"``) ->
            its metrics on the same rows; empty until filled from
            :func:`~modelyard.evaluation.trivial_baselines`.
    """

    task: Task
    metrics: dict[str, float]
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)
    confusion_matrix: list[list[int]] | None = None
    labels: list[str] | None = None
    threshold: ThresholdChoice | None = None
    curves: dict[str, Any] = field(default_factory=dict)
    importance: list[dict[str, float | str]] = field(default_factory=list)
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts, lists, strings and floats, ready for ``json.dumps``.

        The lists are this evaluation's own, not copies (``dataclasses.asdict``
        deep-copied every curve point: 30 ms for a binary model); copy before
        changing them.
        """
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if self.threshold is not None:
            out["threshold"] = dataclasses.asdict(self.threshold)
        return out


def _downsample(arrays: dict[str, NDArray[Any]], *, random: bool) -> dict[str, list[float]]:
    """At most MAX_CURVE_POINTS aligned points, as Python lists.

    Curves keep evenly spaced points including both ends (their shape matters);
    scatter data is sampled at random with a fixed seed (its spread matters).
    """
    n = len(next(iter(arrays.values())))
    if n > MAX_CURVE_POINTS:
        if random:
            rng = np.random.default_rng(0)
            index = np.sort(rng.choice(n, size=MAX_CURVE_POINTS, replace=False))
        else:
            index = np.unique(np.linspace(0, n - 1, MAX_CURVE_POINTS).round().astype(np.int64))
        arrays = {key: value[index] for key, value in arrays.items()}
    # tolist() of a float64 array gives the same Python floats as float(v), without a loop
    return {key: np.asarray(value, dtype=np.float64).tolist() for key, value in arrays.items()}


def _class_indices(
    y_true: Sequence[Any] | NDArray[Any] | pd.Series, classes: Sequence[Any]
) -> NDArray[np.int64]:
    """Map labels to their position in ``classes``; unknown labels are refused."""
    codes = pd.Index(list(classes)).get_indexer(list(y_true))
    if (codes < 0).any():
        unknown = sorted({str(v) for v, c in zip(y_true, codes, strict=True) if c < 0})
        raise InvalidInputError(
            f"y_true holds labels that are not in classes: {', '.join(unknown[:10])}",
            details={"unknown": unknown[:10], "classes": [str(c) for c in classes]},
        )
    return np.asarray(codes, dtype=np.int64)


def evaluate_classification(
    y_true: Sequence[Any] | NDArray[Any] | pd.Series,
    proba: NDArray[np.floating],
    classes: Sequence[Any] | NDArray[Any],
    threshold_strategy: str = "f1",
    threshold: ThresholdChoice | None = None,
) -> Evaluation:
    """Evaluate class probabilities against true labels.

    With two classes the task is binary: the positive class is ``classes[1]`` and
    the decision threshold is ``threshold`` when given, else chosen by
    ``threshold_strategy`` on these rows (see
    :func:`~modelyard.evaluation.choose_threshold`); it is used for accuracy,
    precision, recall, F1 and the confusion matrix. A threshold chosen on the rows
    it is then measured on flatters those figures: to report a model, choose it on
    other rows (the training job uses the validation split) and pass it here. With
    more classes, the prediction is the most probable class.

    Args:
        y_true: true labels, each one of ``classes``.
        proba: ``(n, k)`` probabilities, columns in ``classes`` order (``predict_proba``).
        classes: the class labels (``model.classes_``).
        threshold_strategy: binary only; ``"f1"``, ``"precision:0.9"``, ``"recall:0.8"``
            or ``"default"``.
        threshold: binary only; a threshold chosen elsewhere, used as it is.

    Raises:
        InvalidInputError: shapes that do not match, fewer than two classes, labels not
            in ``classes``, probabilities outside [0, 1] or rows not summing to 1, or a
            bad threshold strategy, or a threshold for more than two classes.
    """
    classes = list(classes)
    p = np.asarray(proba, dtype=np.float64)
    k = len(classes)
    if k < 2 or len(set(map(str, classes))) != k:
        raise InvalidInputError(
            "classes must hold at least two distinct labels",
            details={"classes": [str(c) for c in classes]},
        )
    if p.ndim != 2 or p.shape[1] != k or p.shape[0] != len(y_true) or p.shape[0] == 0:
        raise InvalidInputError(
            f"proba must have shape (n_rows, {k}) with n_rows = len(y_true) > 0",
            details={"proba_shape": list(p.shape), "n_rows": len(y_true), "n_classes": k},
        )
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise InvalidInputError("proba must hold probabilities in [0, 1]", details={})
    sums = p.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-4):
        raise InvalidInputError(
            "each row of proba must sum to 1", details={"worst_row_sum": float(sums.max())}
        )
    p = p / sums[:, None]  # remove rounding noise so log_loss accepts the rows
    y = _class_indices(y_true, classes)
    labels = [str(c) for c in classes]

    curves: dict[str, Any] = {}
    ranking: BinaryRanking | None = None
    if k == 2:
        task: Task = "binary"
        # One sort of the scores serves the threshold, the curves, ROC AUC and PR AUC.
        ranking = BinaryRanking(y == 1, p[:, 1])
        if threshold is None:
            threshold = choose_threshold_on(y, p[:, 1], threshold_strategy, ranking)
        pred = (p[:, 1] >= threshold.threshold).astype(np.int64)
        curves = _binary_curves(ranking)
    else:
        if threshold is not None:
            raise InvalidInputError(
                f"a decision threshold applies to two classes, not {k}",
                details={"n_classes": k},
            )
        task = "multiclass"
        pred = np.argmax(p, axis=1).astype(np.int64)

    metrics = classification_metrics(y, p, pred, ranking=ranking)
    cm = confusion_counts(y, pred, k)
    prec, rec, f1, support = per_class_scores(cm)
    per_class = {
        label: {
            "precision": float(prec[i]),
            "recall": float(rec[i]),
            "f1": float(f1[i]),
            "support": float(support[i]),
        }
        for i, label in enumerate(labels)
    }
    return Evaluation(
        task=task,
        metrics=metrics,
        per_class=per_class,
        confusion_matrix=[[int(v) for v in row] for row in cm],
        labels=labels,
        threshold=threshold,
        curves=curves,
    )


def _binary_curves(ranking: BinaryRanking) -> dict[str, Any]:
    """ROC, PR, calibration and threshold-sweep data; curves undefined on the rows are absent."""
    curves: dict[str, Any] = {}
    has_pos, has_neg = bool(ranking.positive.any()), not bool(ranking.positive.all())
    if has_pos and has_neg:
        fpr, tpr = ranking.roc
        curves["roc"] = _downsample({"fpr": fpr, "tpr": tpr}, random=False)
        fraction, mean_predicted = ranking.calibration(n_bins=10)
        curves["calibration"] = _downsample(
            {"mean_predicted": mean_predicted, "fraction_positive": fraction}, random=False
        )
    if has_pos:
        precision, recall, thresholds = ranking.pr
        curves["pr"] = _downsample({"precision": precision, "recall": recall}, random=False)
        precision, recall = precision[:-1], recall[:-1]
        f1 = f1_of(precision, recall)
        curves["threshold_sweep"] = _downsample(
            {"threshold": thresholds, "precision": precision, "recall": recall, "f1": f1},
            random=False,
        )
    return curves


def evaluate_regression(
    y_true: Sequence[float] | NDArray[Any] | pd.Series,
    y_pred: Sequence[float] | NDArray[Any] | pd.Series,
) -> Evaluation:
    """Evaluate numeric predictions.

    MAPE is computed over the rows whose true value is not 0 (the percentage error is
    undefined there) and is absent when every true value is 0; R² and explained
    variance need at least two rows. Residuals are ``actual - predicted``.

    Raises:
        InvalidInputError: lengths differ, no rows, or values that are not finite numbers.
    """
    try:
        y = np.asarray(y_true, dtype=np.float64)
        pred = np.asarray(y_pred, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"y_true and y_pred must be numeric: {exc}", details={"reason": str(exc)}
        ) from exc
    if y.ndim != 1 or pred.ndim != 1 or len(y) != len(pred) or len(y) == 0:
        raise InvalidInputError(
            "y_true and y_pred must be non-empty 1-d arrays of the same length",
            details={"y_true_shape": list(y.shape), "y_pred_shape": list(pred.shape)},
        )
    if not (np.isfinite(y).all() and np.isfinite(pred).all()):
        raise InvalidInputError("y_true and y_pred must be finite numbers", details={})
    residuals = _downsample({"actual": y, "predicted": pred, "residual": y - pred}, random=True)
    return Evaluation(
        task="regression",
        metrics=regression_metrics(y, pred),
        curves={"residuals": residuals},
    )
