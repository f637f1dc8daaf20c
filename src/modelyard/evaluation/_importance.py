"""Permutation importance on the raw input columns.

Permuting the columns the user gave (not the one-hot or scaled features inside the
pipeline) answers the question users ask: which of *my* columns does the model
rely on. The pipeline re-does its own preprocessing for every permutation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from modelyard.errors import InvalidInputError
from modelyard.evaluation._metrics import TASKS, Task

__all__ = ["permutation_importance"]


def _sample(
    frame: pd.DataFrame, y: pd.Series, task: Task, max_rows: int, seed: int
) -> tuple[pd.DataFrame, pd.Series]:
    """At most ``max_rows`` rows; stratified for classification so every class stays."""
    if len(frame) <= max_rows:
        return frame, y
    if task != "regression":
        from sklearn.model_selection import train_test_split

        try:
            frame_s, _, y_s, _ = train_test_split(
                frame, y, train_size=max_rows, stratify=y, random_state=seed
            )
            return frame_s, y_s
        except ValueError:  # a class too rare to stratify: fall back to a plain sample
            pass
    index = np.sort(np.random.default_rng(seed).choice(len(frame), size=max_rows, replace=False))
    return frame.iloc[index], y.iloc[index]


def permutation_importance(
    model: Any,
    X: pd.DataFrame,
    y: Any,
    task: Task,
    n_repeats: int = 3,
    seed: int = 0,
    max_rows: int = 2000,
) -> list[dict[str, float | str]]:
    """How much the score drops when each input column is shuffled.

    Scores with ROC AUC (binary), negative log loss (multiclass) or R² (regression)
    on at most ``max_rows`` rows sampled with ``seed``.

    Args:
        model: a fitted scikit-learn estimator or pipeline that accepts ``X``.
        X: the raw input columns.
        y: the true targets, aligned with ``X``.
        task: ``"binary"``, ``"multiclass"`` or ``"regression"``.
        n_repeats: shuffles per column; the std is over these.
        seed: fixes both the row sample and the shuffles.
        max_rows: cap on the rows used, to bound the cost on big splits.

    Returns:
        ``[{"feature", "mean", "std"}]``, one per column, by decreasing mean.

    Raises:
        InvalidInputError: an unknown task, ``X`` not a DataFrame, lengths that differ,
            no rows, or ``n_repeats``/``max_rows`` below 1.
    """
    if task not in TASKS:
        raise InvalidInputError(
            f"unknown task {task!r}; expected one of {', '.join(TASKS)}", details={"task": task}
        )
    if not isinstance(X, pd.DataFrame):
        raise InvalidInputError(
            "X must be a pandas DataFrame of the raw input columns",
            details={"type": type(X).__name__},
        )
    y_series = pd.Series(np.asarray(y), index=X.index) if len(y) == len(X) else None
    if y_series is None or len(X) == 0:
        raise InvalidInputError(
            "X and y must be non-empty and of the same length",
            details={"n_rows_x": len(X), "n_rows_y": len(y)},
        )
    if n_repeats < 1 or max_rows < 1:
        raise InvalidInputError(
            "n_repeats and max_rows must be at least 1",
            details={"n_repeats": n_repeats, "max_rows": max_rows},
        )
    from sklearn.inspection import permutation_importance as sk_permutation_importance
    from sklearn.metrics import get_scorer, log_loss, make_scorer

    scoring: Any
    if task == "binary":
        scoring = get_scorer("roc_auc")
    elif task == "multiclass":
        # The sample may miss a rare class: tell log_loss every class the model knows.
        classes = getattr(model, "classes_", None)
        scoring = make_scorer(
            log_loss,
            greater_is_better=False,
            response_method="predict_proba",
            labels=None if classes is None else list(classes),
        )
    else:
        scoring = get_scorer("r2")
    sample_x, sample_y = _sample(X, y_series, task, max_rows, seed)
    if _separable(model):
        means, stds = _shuffle_features(model, sample_x, sample_y, scoring, n_repeats, seed)
    else:
        result = sk_permutation_importance(
            model, sample_x, sample_y, scoring=scoring, n_repeats=n_repeats, random_state=seed
        )
        means, stds = result.importances_mean, result.importances_std
    rows: list[dict[str, float | str]] = [
        {"feature": str(column), "mean": float(mean), "std": float(std)}
        for column, mean, std in zip(X.columns, means, stds, strict=True)
    ]
    rows.sort(key=lambda row: -float(row["mean"]))
    return rows


def _separable(model: Any) -> bool:
    """A two-step pipeline whose first step says which raw column each feature uses."""
    steps = getattr(model, "steps", None)
    return isinstance(steps, list) and len(steps) == 2 and hasattr(steps[0][1], "feature_sources")


def _shuffle_features(
    model: Any, X: pd.DataFrame, y: pd.Series, scoring: Any, n_repeats: int, seed: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Permutation importance of raw columns, shuffling their features' rows.

    Equivalent to shuffling the raw column (each feature depends on one raw column)
    but the preprocessing runs once, not once per shuffle: on a 200-tree model this
    is most of the cost of evaluation.
    """
    recipe, estimator = model.steps[0][1], model.steps[1][1]
    matrix = recipe.transform(X)
    sources = np.asarray(recipe.feature_sources(), dtype=object)
    baseline = scoring(estimator, matrix, y)
    rng = np.random.RandomState(seed)
    means = np.zeros(len(X.columns))
    stds = np.zeros(len(X.columns))
    for position, column in enumerate(X.columns):
        features = np.flatnonzero(sources == column)
        if features.size == 0:  # a column the model does not read
            continue
        drops = []
        for _ in range(n_repeats):
            shuffled = matrix.copy()
            shuffled[:, features] = matrix[rng.permutation(len(matrix))][:, features]
            drops.append(baseline - scoring(estimator, shuffled, y))
        means[position], stds[position] = np.mean(drops), np.std(drops)
    return means, stds
