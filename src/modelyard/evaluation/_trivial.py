"""The trivial baselines a model must beat, and the check that it does.

A model that early stopping cut to one tree, or that learnt nothing from its
features, still gets metrics that look like numbers. Beside every evaluation go
the figures of predictors that ignore the features, fitted on the training rows:

- classification: ``prior`` gives every row the training class shares as its
  probabilities, so its decision is the majority class;
- regression: ``mean`` and ``median`` predict the training target's mean and
  median (the best constants for squared and absolute error).

:func:`compare_to_baselines` says whether the model is better, on measures that
neither a miscalibrated probability nor a chosen threshold distort: ROC AUC for
classification (a constant scores 0.5; balanced accuracy where ROC AUC is
undefined), RMSE against ``mean`` and MAE against ``median`` for regression.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from modelyard.errors import InvalidInputError
from modelyard.evaluation._evaluation import (
    Evaluation,
    evaluate_classification,
    evaluate_regression,
)
from modelyard.evaluation._threshold import ThresholdChoice

__all__ = ["compare_to_baselines", "trivial_baselines"]

Labels = Sequence[Any] | NDArray[Any] | pd.Series


def trivial_baselines(
    task: str,
    y_train: Labels,
    y_true: Labels,
    classes: Sequence[Any] | None = None,
) -> dict[str, dict[str, float]]:
    """The metrics, on ``y_true``, of the trivial predictors fitted on ``y_train``.

    Args:
        task: ``"binary"``, ``"multiclass"`` or ``"regression"``.
        y_train: the training target (labels, or numbers for regression).
        y_true: the target of the rows the model is evaluated on.
        classes: classification only: the model's classes, in its column order.

    Returns:
        ``{"prior": metrics}`` for classification, ``{"mean": ..., "median": ...}``
        for regression; the metrics as :func:`evaluate_classification` and
        :func:`evaluate_regression` compute them (a binary prior at the 0.5 cut).

    Raises:
        InvalidInputError: an unknown task, no training rows, classes missing for
            classification, or values the evaluation functions refuse.
    """
    n = len(y_true)
    if len(y_train) == 0:
        raise InvalidInputError("trivial baselines need training rows", details={})
    if task == "regression":
        train = np.asarray(y_train, dtype=np.float64)
        return {
            name: evaluate_regression(y_true, np.full(n, float(value))).metrics
            for name, value in (("mean", np.mean(train)), ("median", np.median(train)))
        }
    if task not in ("binary", "multiclass"):
        raise InvalidInputError(f"unknown task {task!r}", details={"task": task})
    if classes is None:
        raise InvalidInputError("classification baselines need the classes", details={})
    counts = pd.Series(list(y_train)).value_counts()
    shares = np.asarray([counts.get(c, 0) for c in classes], dtype=np.float64) / len(y_train)
    proba = np.tile(shares, (n, 1))
    threshold = None
    if len(classes) == 2:  # the prior's decision is the majority class: the 0.5 cut
        threshold = ThresholdChoice("default", 0.5, 0.0, 0.0, 0.0, chosen_on="fixed")
    return {"prior": evaluate_classification(y_true, proba, classes, threshold=threshold).metrics}


def compare_to_baselines(evaluation: Evaluation) -> tuple[bool, str]:
    """Whether the model beats every trivial baseline of ``evaluation.baselines``.

    Returns:
        ``(better, message)``; the message names the measure and both figures,
        e.g. ``"mae 1.2e+06 is not below the median predictor's 31.5"``.

    Raises:
        InvalidInputError: the evaluation holds no baselines.
    """
    if not evaluation.baselines:
        raise InvalidInputError(
            "the evaluation holds no trivial baselines: fill them with trivial_baselines",
            details={},
        )
    metrics = evaluation.metrics
    if evaluation.task == "regression":
        checks = [("rmse", "mean"), ("mae", "median")]
        results = [
            (metric, name, metrics[metric], evaluation.baselines[name][metric])
            for metric, name in checks
        ]
        failed = [r for r in results if not r[2] < r[3]]
        if failed:
            return False, "; ".join(
                f"{m} {_fmt(ours)} is not below the {name} predictor's {_fmt(theirs)}"
                for m, name, ours, theirs in failed
            )
        return True, "; ".join(
            f"{m} {_fmt(ours)} < the {name} predictor's {_fmt(theirs)}"
            for m, name, ours, theirs in results
        )
    prior = evaluation.baselines["prior"]
    metric = "roc_auc" if "roc_auc" in metrics and "roc_auc" in prior else "balanced_accuracy"
    ours, theirs = metrics[metric], prior[metric]
    if ours > theirs:
        return True, f"{metric} {_fmt(ours)} > the class prior's {_fmt(theirs)}"
    return False, f"{metric} {_fmt(ours)} is not above the class prior's {_fmt(theirs)}"


def _fmt(value: float) -> str:
    return f"{value:.4g}"
