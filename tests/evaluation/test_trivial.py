"""Trivial baselines beside a model, and the check that the model beats them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from modelyard.errors import InvalidInputError
from modelyard.evaluation import (
    ThresholdChoice,
    compare_to_baselines,
    evaluate_classification,
    evaluate_regression,
    trivial_baselines,
)


def test_regression_baselines_are_the_training_mean_and_median() -> None:
    rng = np.random.default_rng(0)
    y_train = np.concatenate([rng.normal(100, 10, 500), [1e12] * 5])  # five extreme outliers
    y_test = rng.normal(100, 10, 200)
    baselines = trivial_baselines("regression", y_train, y_test)
    assert set(baselines) == {"mean", "median"}
    assert baselines["median"]["mae"] == pytest.approx(
        skm.mean_absolute_error(y_test, np.full(200, np.median(y_train)))
    )
    assert baselines["mean"]["rmse"] == pytest.approx(
        skm.root_mean_squared_error(y_test, np.full(200, np.mean(y_train)))
    )


def test_a_regression_model_no_better_than_the_median_is_not_better() -> None:
    rng = np.random.default_rng(1)
    y_train = np.concatenate([rng.normal(100, 10, 500), [1e12] * 5])
    y_test = rng.normal(100, 10, 200)
    constant = evaluate_regression(y_test, np.full(200, np.mean(y_train)))  # one tree's worth
    constant.baselines = trivial_baselines("regression", y_train, y_test)
    better, message = compare_to_baselines(constant)
    assert not better
    assert "mae" in message and "median predictor" in message
    good = evaluate_regression(y_test, y_test + rng.normal(0, 1, 200))
    good.baselines = constant.baselines
    assert compare_to_baselines(good)[0]


def test_the_class_prior_is_the_classification_baseline() -> None:
    rng = np.random.default_rng(2)
    y_train = np.where(rng.random(1000) < 0.3, "yes", "no")
    y_test = np.where(rng.random(300) < 0.3, "yes", "no")
    baselines = trivial_baselines("binary", y_train, y_test, ["no", "yes"])
    prior = baselines["prior"]
    assert prior["roc_auc"] == 0.5
    assert prior["accuracy"] == pytest.approx(np.mean(y_test == "no"))  # the majority
    share = np.mean(y_train == "yes")
    assert prior["log_loss"] == pytest.approx(
        skm.log_loss(y_test, np.tile([1 - share, share], (300, 1)), labels=["no", "yes"])
    )
    signal = (y_test == "yes") * 0.4 + rng.random(300) * 0.6
    model = evaluate_classification(y_test, np.c_[1 - signal, signal], ["no", "yes"])
    model.baselines = baselines
    assert compare_to_baselines(model) == (
        True,
        f"roc_auc {model.metrics['roc_auc']:.4g} > the class prior's 0.5",
    )
    noise = rng.random(300)
    useless = evaluate_classification(y_test, np.c_[1 - noise, noise], ["no", "yes"])
    useless.baselines = baselines
    if useless.metrics["roc_auc"] <= 0.5:
        assert not compare_to_baselines(useless)[0]


def test_multiclass_prior_and_no_baselines_refused() -> None:
    y = np.array([0, 1, 2, 2, 2, 1])
    baselines = trivial_baselines("multiclass", y, y, [0, 1, 2])
    assert baselines["prior"]["accuracy"] == pytest.approx(0.5)
    ev = evaluate_classification(y, np.eye(3)[y], [0, 1, 2])
    with pytest.raises(InvalidInputError, match="no trivial baselines"):
        compare_to_baselines(ev)
    with pytest.raises(InvalidInputError, match="classes"):
        trivial_baselines("binary", y, y)


def test_a_given_threshold_is_used_as_it_is() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    p = np.clip(0.35 * y + 0.65 * rng.random(400), 0, 1)
    chosen = ThresholdChoice("f1", 0.61, 0.8, 0.7, 0.75, chosen_on="validation")
    ev = evaluate_classification(y, np.c_[1 - p, p], [0, 1], threshold=chosen)
    pred = (p >= 0.61).astype(int)
    assert ev.threshold == chosen
    assert ev.metrics["f1"] == skm.f1_score(y, pred)
    assert ev.metrics["accuracy"] == skm.accuracy_score(y, pred)
    with pytest.raises(InvalidInputError, match="two classes"):
        evaluate_classification([0, 1, 2], np.eye(3), [0, 1, 2], threshold=chosen)


def test_the_report_shows_the_baselines_and_where_the_threshold_was_chosen() -> None:
    from modelyard.evaluation import render_report

    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 200)
    p = np.clip(0.35 * y + 0.65 * rng.random(200), 0, 1)
    chosen = ThresholdChoice("f1", 0.55, 0.8, 0.7, 0.75, chosen_on="validation")
    ev = evaluate_classification(y, np.c_[1 - p, p], [0, 1], threshold=chosen)
    ev.baselines = trivial_baselines("binary", y, y, [0, 1])
    html = render_report(ev, title="t", context={})
    assert "<th>prior (trivial)</th>" in html
    assert "on the validation split: precision 0.800" in html
