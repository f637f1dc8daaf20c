"""Choosing the decision threshold of a binary classifier.

A probability model says nothing about where to cut; the business does. The
strategy string says what matters (best F1, a precision floor, a recall floor) and
the threshold is chosen on the evaluation rows with the precision-recall curve
(scikit-learn's, computed by :class:`~modelyard.evaluation._metrics.BinaryRanking`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from modelyard.errors import InvalidInputError
from modelyard.evaluation._metrics import BinaryRanking

__all__ = ["ThresholdChoice", "choose_threshold", "parse_strategy"]

_STRATEGIES = "'f1', 'precision:<target>', 'recall:<target>' or 'default'"


@dataclass(frozen=True)
class ThresholdChoice:
    """A threshold and what it achieves on the rows it was chosen on.

    Rows with ``p_positive >= threshold`` are predicted positive.

    Attributes:
        strategy: the strategy string it was chosen by.
        threshold: the cut on the positive-class probability.
        precision: precision of the positive class at that threshold.
        recall: recall of the positive class at that threshold.
        f1: F1 of the positive class at that threshold.
        target_reached: False when a ``precision:``/``recall:`` target could not be
            met (the closest threshold is used instead) or the rows hold no positive.
        chosen_on: the rows it was chosen on: ``"evaluation"`` (the rows it is
            evaluated on, which flatters the figures measured there),
            ``"validation"`` or ``"out-of-fold"`` (the training job's choices, made
            on rows the reported metrics do not use).
    """

    strategy: str
    threshold: float
    precision: float
    recall: float
    f1: float
    target_reached: bool = True
    chosen_on: str = "evaluation"


def parse_strategy(strategy: str) -> tuple[str, float | None]:
    """Split ``"precision:0.9"`` into ``("precision", 0.9)``.

    Raises:
        InvalidInputError: an unknown strategy or a target outside [0, 1].
    """
    if not isinstance(strategy, str):
        raise InvalidInputError(
            f"threshold strategy must be a string, one of {_STRATEGIES}",
            details={"strategy": repr(strategy)},
        )
    kind, sep, raw = strategy.strip().partition(":")
    if kind in ("f1", "default") and not sep:
        return kind, None
    if kind in ("precision", "recall") and sep:
        try:
            target = float(raw)
        except ValueError:
            target = math.nan
        if 0.0 <= target <= 1.0:
            return kind, target
        raise InvalidInputError(
            f"threshold strategy {strategy!r} needs a target between 0 and 1",
            details={"strategy": strategy},
        )
    raise InvalidInputError(
        f"unknown threshold strategy {strategy!r}; expected {_STRATEGIES}",
        details={"strategy": strategy},
    )


def _at(
    y: NDArray[np.int64], p: NDArray[np.float64], threshold: float
) -> tuple[float, float, float]:
    """Precision, recall and F1 of the positive class when cutting at ``threshold``."""
    pred = p >= threshold
    tp = float(np.sum(pred & (y == 1)))
    predicted, actual = float(np.sum(pred)), float(np.sum(y == 1))
    precision = tp / predicted if predicted else 0.0
    recall = tp / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def choose_threshold(
    y_true: NDArray[np.integer] | list[int],
    p_positive: NDArray[np.floating] | list[float],
    strategy: str = "f1",
) -> ThresholdChoice:
    """Choose the cut on ``p_positive`` by ``strategy``.

    Strategies:
        ``"f1"``: the threshold with the highest F1.
        ``"precision:0.9"``: the lowest threshold whose precision reaches 0.9, i.e.
        the best recall under that precision floor.
        ``"recall:0.8"``: the highest threshold whose recall stays at least 0.8.
        ``"default"``: 0.5.

    When a target cannot be reached, the threshold with the best precision (or the
    lowest one, for recall) is returned with ``target_reached=False``; when
    ``y_true`` holds no positive row the 0.5 cut is returned likewise.

    Args:
        y_true: 0/1 labels, 1 = positive.
        p_positive: probability of the positive class per row.
        strategy: see above.

    Raises:
        InvalidInputError: a bad strategy, labels other than 0/1, probabilities
            outside [0, 1], mismatched lengths or no rows.
    """
    parse_strategy(strategy)  # a bad strategy is refused before the rows are looked at
    y = np.asarray(y_true)
    p = np.asarray(p_positive, dtype=np.float64)
    if y.ndim != 1 or p.ndim != 1 or len(y) != len(p) or len(y) == 0:
        raise InvalidInputError(
            "y_true and p_positive must be non-empty 1-d arrays of the same length",
            details={"y_true_shape": list(y.shape), "p_positive_shape": list(p.shape)},
        )
    if not np.isin(y, [0, 1]).all():
        raise InvalidInputError(
            "y_true must hold only 0 and 1",
            details={"values": sorted(map(str, set(y.tolist())))[:10]},
        )
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise InvalidInputError("p_positive must hold probabilities in [0, 1]", details={})
    y = y.astype(np.int64)
    return choose_threshold_on(y, p, strategy)


def f1_of(precision: NDArray[np.float64], recall: NDArray[np.float64]) -> NDArray[np.float64]:
    """F1 at each point of a precision-recall curve; 0 where both are 0."""
    denom = precision + recall
    f1: NDArray[np.float64] = np.divide(
        2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0
    )
    return f1


def choose_threshold_on(
    y: NDArray[np.int64],
    p: NDArray[np.float64],
    strategy: str,
    ranking: BinaryRanking | None = None,
) -> ThresholdChoice:
    """:func:`choose_threshold` on rows already checked, sharing ``ranking`` when given.

    ``evaluate_classification`` validated its rows and needs the same
    precision-recall curve for its own figures: it passes the :class:`BinaryRanking`
    of ``(y == 1, p)`` so the scores are sorted once.
    """
    kind, target = parse_strategy(strategy)
    if kind == "default" or not (y == 1).any():
        # Without a positive row precision/recall are undefined: keep the neutral cut.
        return ThresholdChoice(strategy, 0.5, *_at(y, p, 0.5), target_reached=kind == "default")

    if ranking is None:
        ranking = BinaryRanking(y == 1, p)
    precision, recall, thresholds = ranking.pr
    precision, recall = precision[:-1], recall[:-1]  # the last point has no threshold
    reached = True
    floor = 0.0 if target is None else target  # parse_strategy sets it for precision/recall
    if kind == "f1":
        index = int(np.argmax(f1_of(precision, recall)))
    elif kind == "precision":
        ok = np.flatnonzero(precision >= floor)
        if ok.size:
            index = int(ok[0])  # thresholds ascend: the first is the lowest, best recall
        else:
            index, reached = int(np.argmax(precision)), False
    else:
        ok = np.flatnonzero(recall >= floor)
        if ok.size:
            index = int(ok[-1])  # the highest threshold still keeping the recall
        else:  # pragma: no cover - recall is 1 at the lowest threshold
            index, reached = 0, False
    threshold = float(thresholds[index])
    return ThresholdChoice(strategy, threshold, *_at(y, p, threshold), target_reached=reached)
