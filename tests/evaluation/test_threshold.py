"""Decision-threshold strategies."""

from __future__ import annotations

import numpy as np
import pytest

from modelyard.errors import InvalidInputError
from modelyard.evaluation import ThresholdChoice, choose_threshold

# Sorted by score; labels chosen so each strategy has a distinct answer.
P = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
Y = np.array([0, 0, 1, 0, 1, 0, 1, 1, 1, 1])


def _prf(threshold: float) -> tuple[float, float]:
    pred = np.greater_equal(P, threshold)
    tp = np.sum(pred & (Y == 1))
    return tp / pred.sum(), tp / Y.sum()


def test_f1_maximises_f1_over_all_cuts() -> None:
    choice = choose_threshold(Y, P, "f1")
    best = max(
        (2 * p * r / (p + r), t) for t in P for p, r in [_prf(t)] if p + r > 0
    )  # brute force over every candidate cut
    assert choice.f1 == pytest.approx(best[0])
    assert choice.threshold == pytest.approx(0.3)  # 6/8 precision, recall 1 -> F1 6/7
    assert choice.f1 == pytest.approx(6 / 7)
    assert (choice.precision, choice.recall) == pytest.approx(_prf(0.3))


def test_precision_target_takes_the_lowest_threshold_reaching_it() -> None:
    choice = choose_threshold(Y, P, "precision:0.9")
    assert choice.threshold == pytest.approx(0.7)  # the first cut with precision 1.0
    assert choice.precision >= 0.9 and choice.recall == pytest.approx(4 / 6)
    assert choice.target_reached


def test_recall_target_takes_the_highest_threshold_keeping_it() -> None:
    choice = choose_threshold(Y, P, "recall:0.8")
    assert choice.threshold == pytest.approx(0.5)  # recall 5/6; at 0.6 it drops to 4/6
    assert choice.recall == pytest.approx(5 / 6)


def test_default_is_half() -> None:
    choice = choose_threshold(Y, P, "default")
    assert choice == ThresholdChoice("default", 0.5, *_prf(0.5), 2 * 5 / 6 * 5 / 6 / (10 / 6))


def test_unreachable_precision_falls_back_and_says_so() -> None:
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.9, 0.5, 0.5])
    choice = choose_threshold(y, p, "precision:0.99")
    assert not choice.target_reached and choice.precision == pytest.approx(0.5)


def test_no_positive_rows_keeps_the_neutral_cut() -> None:
    choice = choose_threshold(np.zeros(4, dtype=int), np.array([0.1, 0.6, 0.3, 0.9]), "f1")
    assert choice.threshold == 0.5 and not choice.target_reached
    assert (choice.precision, choice.recall, choice.f1) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "strategy", ["f2", "precision", "precision:", "precision:1.5", "recall:x", "f1:0.5", ""]
)
def test_bad_strategy_is_refused(strategy: str) -> None:
    with pytest.raises(InvalidInputError, match="strategy"):
        choose_threshold(Y, P, strategy)


@pytest.mark.parametrize(
    ("y", "p"),
    [
        ([0, 1, 2], [0.1, 0.2, 0.3]),
        ([0, 1], [0.1, 1.2]),
        ([0, 1], [0.1]),
        ([], []),
    ],
)
def test_bad_inputs_are_refused(y: list[int], p: list[float]) -> None:
    with pytest.raises(InvalidInputError):
        choose_threshold(np.asarray(y), np.asarray(p))
