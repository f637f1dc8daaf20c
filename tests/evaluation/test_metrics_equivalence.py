"""The fast classification figures equal scikit-learn's, on random inputs.

``modelyard.evaluation`` computes its classification figures from one confusion
matrix and one sort of the scores instead of calling scikit-learn's functions
(their input checks cost most of an evaluation). These tests pin the claim that
nothing changed: integer-derived figures and curves are equal exactly, areas and
the log loss within 1e-12, on inputs with ties, classes absent from ``y``,
a single predicted class, ``-0.0`` scores and a handful of rows.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from modelyard.evaluation import choose_threshold, evaluate_classification
from modelyard.evaluation._evaluation import _downsample
from modelyard.evaluation._metrics import BinaryRanking, classification_metrics
from modelyard.evaluation._threshold import ThresholdChoice, _at, parse_strategy

TOLERANCE = 1e-12
"""Areas and the log loss may differ from scikit-learn's by float rounding, no more."""

AREAS = frozenset({"roc_auc", "pr_auc", "log_loss"})

# A coarse grid makes ties frequent; -0.0 ties with 0.0 but must keep its sign.
GRID = [0.0, -0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]
SCORES = st.one_of(st.sampled_from(GRID), st.floats(0.0, 1.0, allow_subnormal=False))
STRATEGIES = ["f1", "default", "precision:0.8", "precision:1.0", "recall:0.5", "recall:1.0"]


@st.composite
def binary_rows(draw: st.DrawFn) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """0/1 labels (one class may be missing) and scores in [0, 1] with ties."""
    n = draw(st.integers(1, 40))
    y = np.asarray(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=np.int64)
    p = np.asarray(draw(st.lists(SCORES, min_size=n, max_size=n)), dtype=np.float64)
    return y, p


@st.composite
def class_rows(
    draw: st.DrawFn,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Labels, probability rows and predictions for 2 to 5 classes.

    Some classes may never occur in ``y``; the predictions are the argmax, a single
    class, or random.
    """
    k = draw(st.integers(2, 5))
    n = draw(st.integers(1, 40))
    occurring = draw(st.lists(st.integers(0, k - 1), min_size=1, max_size=k, unique=True))
    y = np.asarray(draw(st.lists(st.sampled_from(occurring), min_size=n, max_size=n)))
    raw = np.asarray(
        draw(st.lists(st.lists(SCORES, min_size=k, max_size=k), min_size=n, max_size=n))
    )
    raw[raw.sum(axis=1) == 0, 0] = 1.0  # every row needs some probability
    proba = raw / raw.sum(axis=1, keepdims=True)
    how = draw(st.sampled_from(["argmax", "single", "random"]))
    if how == "argmax":
        pred = proba.argmax(axis=1)
    elif how == "single":
        pred = np.full(n, draw(st.integers(0, k - 1)))
    else:
        pred = np.asarray(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return y.astype(np.int64), proba.astype(np.float64), pred.astype(np.int64)


def _bitwise_equal(actual: NDArray[Any], expected: NDArray[Any]) -> bool:
    """Same shape and the same bits (so -0.0 differs from 0.0)."""
    a = np.asarray(actual, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


@settings(max_examples=200, deadline=None)
@given(binary_rows())
def test_ranking_curves_equal_sklearns_bit_for_bit(
    rows: tuple[NDArray[np.int64], NDArray[np.float64]],
) -> None:
    y, p = rows
    ranking = BinaryRanking(y == 1, p)
    has_pos, has_neg = bool((y == 1).any()), bool((y == 0).any())
    if has_pos:
        precision, recall, thresholds = skm.precision_recall_curve(y, p)
        ours = ranking.pr
        assert _bitwise_equal(ours[0], precision)
        assert _bitwise_equal(ours[1], recall)
        assert _bitwise_equal(ours[2], thresholds)
    if has_pos and has_neg:
        fpr, tpr, _ = skm.roc_curve(y, p)
        assert _bitwise_equal(ranking.roc[0], fpr)
        assert _bitwise_equal(ranking.roc[1], tpr)
        assert abs(ranking.roc_auc() - skm.roc_auc_score(y, p)) <= TOLERANCE
        assert abs(ranking.average_precision() - skm.average_precision_score(y, p)) <= TOLERANCE
        fraction, mean_predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
        assert _bitwise_equal(ranking.calibration(10)[0], fraction)
        assert _bitwise_equal(ranking.calibration(10)[1], mean_predicted)


def _sklearn_metrics(
    y: NDArray[np.int64], proba: NDArray[np.float64], pred: NDArray[np.int64]
) -> dict[str, float]:
    """The metrics as modelyard computed them with scikit-learn before (the reference)."""
    k = proba.shape[1]
    labels = list(range(k))
    out = {"accuracy": skm.accuracy_score(y, pred)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes absent from y_true
        out["balanced_accuracy"] = skm.balanced_accuracy_score(y, pred)
    for average, suffix in (("macro", "_macro"), ("weighted", "")):
        # scikit-learn's own default labels (those in y or pred): a class absent from
        # both is not averaged in as a 0
        p, r, f, _ = skm.precision_recall_fscore_support(y, pred, average=average, zero_division=0)
        out |= {"precision" + suffix: p, "recall" + suffix: r, "f1" + suffix: f}
    if k == 2:
        p, r, f, _ = skm.precision_recall_fscore_support(
            y, pred, labels=[1], average=None, zero_division=0
        )
        out |= {"precision": p[0], "recall": r[0], "f1": f[0]}
        out["brier"] = float(np.mean((proba[:, 1] - (y == 1)) ** 2))
    if len(np.unique(y)) == k:
        if k == 2:
            out["roc_auc"] = skm.roc_auc_score(y, proba[:, 1])
            out["pr_auc"] = skm.average_precision_score(y, proba[:, 1])
        else:
            out["roc_auc"] = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro")
            onehot = np.eye(k, dtype=np.int64)[y]
            out["pr_auc"] = skm.average_precision_score(onehot, proba, average="macro")
    out["log_loss"] = skm.log_loss(y, proba, labels=labels)
    return {name: float(value) for name, value in out.items()}


def _assert_same_metrics(actual: dict[str, float], expected: dict[str, float]) -> None:
    assert set(actual) == set(expected)
    for name, value in expected.items():
        if name in AREAS:
            assert abs(actual[name] - value) <= TOLERANCE, name
        else:
            assert actual[name] == value, name


def _assert_same_evaluation(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Metrics as above; everything else equal, the curves bit for bit (-0.0 is not 0.0)."""
    _assert_same_metrics(actual.pop("metrics"), expected.pop("metrics"))
    assert actual == expected
    for name, curve in expected["curves"].items():
        for key, values in curve.items():
            assert _bitwise_equal(np.asarray(actual["curves"][name][key]), np.asarray(values))


@settings(max_examples=200, deadline=None)
@given(class_rows())
def test_classification_metrics_equal_sklearns(
    rows: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]],
) -> None:
    y, proba, pred = rows
    _assert_same_metrics(classification_metrics(y, proba, pred), _sklearn_metrics(y, proba, pred))


def _sklearn_threshold(
    y: NDArray[np.int64], p: NDArray[np.float64], strategy: str
) -> ThresholdChoice:
    """The threshold as modelyard chose it on scikit-learn's PR curve before (the reference)."""
    kind, target = parse_strategy(strategy)
    if kind == "default" or not (y == 1).any():
        return ThresholdChoice(strategy, 0.5, *_at(y, p, 0.5), target_reached=kind == "default")
    precision, recall, thresholds = skm.precision_recall_curve(y, p)
    precision, recall = precision[:-1], recall[:-1]
    reached = True
    if kind == "f1":
        denom = precision + recall
        f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
        index = int(np.argmax(f1))
    elif kind == "precision":
        ok = np.flatnonzero(precision >= target)
        index, reached = (int(ok[0]), True) if ok.size else (int(np.argmax(precision)), False)
    else:
        index = int(np.flatnonzero(recall >= target)[-1])
    threshold = float(thresholds[index])
    return ThresholdChoice(strategy, threshold, *_at(y, p, threshold), target_reached=reached)


@settings(max_examples=200, deadline=None)
@given(binary_rows(), st.sampled_from(STRATEGIES))
def test_choose_threshold_equals_the_choice_on_sklearns_curve(
    rows: tuple[NDArray[np.int64], NDArray[np.float64]], strategy: str
) -> None:
    y, p = rows
    choice = choose_threshold(y, p, strategy)
    expected = _sklearn_threshold(y, p, strategy)
    assert choice == expected
    assert _bitwise_equal(np.asarray(choice.threshold), np.asarray(expected.threshold))


def _sklearn_evaluation(
    y: NDArray[np.int64], proba: NDArray[np.float64], strategy: str
) -> dict[str, Any]:
    """``evaluate_classification(...).to_dict()`` as computed with scikit-learn before."""
    proba = proba / proba.sum(axis=1)[:, None]  # evaluate_classification renormalises so
    k = proba.shape[1]
    curves: dict[str, Any] = {}
    threshold: dict[str, Any] | None = None
    if k == 2:
        choice = _sklearn_threshold(y, proba[:, 1], strategy)
        threshold = dataclasses.asdict(choice)
        pred = (proba[:, 1] >= choice.threshold).astype(np.int64)
        p1 = proba[:, 1]
        if (y == 1).any() and (y == 0).any():
            fpr, tpr, _ = skm.roc_curve(y, p1)
            curves["roc"] = _downsample({"fpr": fpr, "tpr": tpr}, random=False)
            fraction, mean = calibration_curve(y, p1, n_bins=10, strategy="uniform")
            curves["calibration"] = _downsample(
                {"mean_predicted": mean, "fraction_positive": fraction}, random=False
            )
        if (y == 1).any():
            precision, recall, thresholds = skm.precision_recall_curve(y, p1)
            curves["pr"] = _downsample({"precision": precision, "recall": recall}, random=False)
            precision, recall = precision[:-1], recall[:-1]
            denom = precision + recall
            f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
            curves["threshold_sweep"] = _downsample(
                {"threshold": thresholds, "precision": precision, "recall": recall, "f1": f1},
                random=False,
            )
    else:
        pred = np.argmax(proba, axis=1).astype(np.int64)
    prec, rec, f1s, support = skm.precision_recall_fscore_support(
        y, pred, labels=list(range(k)), average=None, zero_division=0
    )
    return {
        "task": "binary" if k == 2 else "multiclass",
        "metrics": _sklearn_metrics(y, proba, pred),
        "per_class": {
            str(i): {
                "precision": float(prec[i]),
                "recall": float(rec[i]),
                "f1": float(f1s[i]),
                "support": float(support[i]),
            }
            for i in range(k)
        },
        "confusion_matrix": skm.confusion_matrix(y, pred, labels=list(range(k))).tolist(),
        "labels": [str(i) for i in range(k)],
        "threshold": threshold,
        "curves": curves,
        "importance": [],
        "baselines": {},
    }


@settings(max_examples=200, deadline=None)
@given(class_rows(), st.sampled_from(STRATEGIES))
def test_evaluate_classification_equals_the_sklearn_reference(
    rows: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]], strategy: str
) -> None:
    y, proba, _ = rows
    actual = evaluate_classification(y, proba, list(range(proba.shape[1])), strategy).to_dict()
    _assert_same_evaluation(actual, _sklearn_evaluation(y, proba, strategy))


def test_a_large_binary_evaluation_equals_the_sklearn_reference() -> None:
    """30,000 rows: the curves are downsampled and the sums run long."""
    rng = np.random.default_rng(7)
    y = (rng.random(30_000) < 0.3).astype(np.int64)
    p1 = np.clip(y * 0.3 + np.round(rng.random(30_000) * 0.7, 3), 0, 1)  # many ties
    proba = np.column_stack([1 - p1, p1])
    actual = evaluate_classification(y, proba, [0, 1]).to_dict()
    assert len(actual["curves"]["pr"]["recall"]) > 100  # the curves are really compared
    _assert_same_evaluation(actual, _sklearn_evaluation(y, proba, "f1"))


def test_a_large_multiclass_evaluation_equals_the_sklearn_reference() -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 5, 20_000)
    proba = rng.dirichlet(np.ones(5), size=20_000)
    proba[np.arange(20_000), y] += 0.5
    proba = np.round(proba / proba.sum(axis=1, keepdims=True), 5)  # ties
    actual = evaluate_classification(y, proba, list(range(5))).to_dict()
    assert "roc_auc" in actual["metrics"] and "pr_auc" in actual["metrics"]
    _assert_same_evaluation(actual, _sklearn_evaluation(y, proba, "f1"))


def test_a_class_absent_from_the_test_rows_is_not_averaged_in_as_zero() -> None:
    """A model of three classes scored on rows holding two of them: the macro figures
    are scikit-learn's (labels in y or the predictions), not dragged down by a 0 for
    the class that never occurs."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)  # class 2 is known to the model, absent from the rows
    proba = np.full((300, 3), 0.05)
    proba[np.arange(300), y] = 0.9
    pred = proba.argmax(axis=1)
    pred[:6] = 1 - pred[:6]  # a few mistakes, none predicting class 2
    evaluation = evaluate_classification(y, proba, [0, 1, 2])
    metrics = classification_metrics(y.astype(np.int64), proba, pred.astype(np.int64))
    assert evaluation.metrics["f1_macro"] == 1.0
    assert metrics["f1_macro"] == skm.f1_score(y, pred, average="macro")
    assert metrics["precision_macro"] == skm.precision_score(y, pred, average="macro")
    assert metrics["recall_macro"] == skm.recall_score(y, pred, average="macro")
    assert 0.95 < metrics["f1_macro"] < 1.0  # not two thirds of it
