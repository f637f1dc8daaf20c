"""Permutation importance on the raw input columns.

Permuting the columns the user gave (not the one-hot or scaled features inside the
pipeline) answers the question users ask: which of *my* columns does the model
rely on. The pipeline re-does its own preprocessing for every permutation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from modelyard.errors import InvalidInputError
from modelyard.evaluation._metrics import TASKS, BinaryRanking, Task

__all__ = ["permutation_importance"]

# Shuffled matrices held before they are scored together: bounds memory on wide data
# while a typical model's shuffles all go to the estimator in one call.
_PENDING_BYTES = 64 * 2**20


def _sample(y: pd.Series, task: Task, max_rows: int, seed: int) -> npt.NDArray[np.intp]:
    """Positions of at most ``max_rows`` rows; stratified for classification so every
    class stays. Positions, not rows: the caller takes them from the frame or from a
    matrix it already has."""
    if len(y) <= max_rows:
        return np.arange(len(y))
    if task != "regression":
        from sklearn.model_selection import train_test_split

        try:
            positions, _ = train_test_split(
                np.arange(len(y)), train_size=max_rows, stratify=y, random_state=seed
            )
            return np.asarray(positions)
        except ValueError:  # a class too rare to stratify: fall back to a plain sample
            pass
    return np.sort(np.random.default_rng(seed).choice(len(y), size=max_rows, replace=False))


def permutation_importance(
    model: Any,
    X: pd.DataFrame,
    y: Any,
    task: Task,
    n_repeats: int = 3,
    seed: int = 0,
    max_rows: int = 2000,
    transformed: npt.NDArray[Any] | None = None,
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
        transformed: the pipeline's first step applied to ``X`` (row for row), when
            the caller has it already: the sampled rows are taken from it rather
            than transformed again. Used only with a two-step pipeline whose first
            step names each feature's raw column.

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
    positions = _sample(y_series, task, max_rows, seed)
    sample_x, sample_y = X.iloc[positions], y_series.iloc[positions]
    if transformed is not None and len(transformed) != len(X):
        raise InvalidInputError(
            "transformed must hold one row per row of X",
            details={"n_rows_x": len(X), "n_rows_transformed": len(transformed)},
        )
    if _separable(model):
        recipe = model.steps[0][1]
        matrix = recipe.transform(sample_x) if transformed is None else transformed[positions]
        means, stds = _shuffle_features(
            model,
            matrix,
            list(X.columns),
            sample_y,
            scoring,
            n_repeats,
            seed,
            binary=task == "binary",
        )
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


def roc_auc(positive: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]) -> float:
    """ROC AUC of ``score`` for the rows marked ``positive``.

    ``BinaryRanking``'s area (scikit-learn's ``roc_auc_score``, ties counting half)
    without the scorer's input checks, which cost more than the area itself on the
    few thousand rows importance uses: 49 scorings per 16-column model.
    """
    n_positive = int(positive.sum())
    if n_positive == 0 or n_positive == len(positive):
        raise InvalidInputError("ROC AUC needs rows of both classes")
    return BinaryRanking(positive, score).roc_auc()


def _shuffle_features(
    model: Any,
    matrix: npt.NDArray[Any],
    columns: list[str],
    y: pd.Series,
    scoring: Any,
    n_repeats: int,
    seed: int,
    *,
    binary: bool,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Permutation importance of raw columns, shuffling their features' rows.

    Equivalent to shuffling the raw column (each feature depends on one raw column)
    but the preprocessing runs once, not once per shuffle: on a 200-tree model this
    is most of the cost of evaluation. A binary model's shuffles are scored by
    :func:`roc_auc` (the scikit-learn scorer's figures, a tenth of its cost) from
    one ``predict_proba`` call per ``_PENDING_BYTES`` of shuffled matrices (one call
    for the churn model's 48 shuffles instead of 16: a boosted model predicts one
    large batch faster per row than many small ones, 207 -> 172 ms on the 200-tree
    model), which predicts only the rows a shuffle changed (a row whose features are
    all unchanged scores as before: about a quarter of the rows of a churn model,
    whose columns are mostly categorical).
    """
    recipe, estimator = model.steps[0][1], model.steps[1][1]
    sources = np.asarray(recipe.feature_sources(), dtype=object)
    score_each = (binary and _auc_of_each(estimator, matrix, y)) or (
        lambda matrices: [scoring(estimator, m, y) for m in matrices]
    )
    baseline = score_each([matrix])[0]
    rng = np.random.RandomState(seed)
    drops: list[list[float]] = [[] for _ in columns]
    pending: list[tuple[int, npt.NDArray[Any]]] = []  # (column position, shuffled matrix)

    def score_pending() -> None:
        scores = score_each([shuffled for _, shuffled in pending])
        for (position, _), score in zip(pending, scores, strict=True):
            drops[position].append(baseline - score)
        pending.clear()

    for position, column in enumerate(columns):
        features = np.flatnonzero(sources == column)
        if features.size == 0:  # a column the model does not read
            continue
        for _ in range(n_repeats):
            shuffled = matrix.copy()
            shuffled[:, features] = matrix[rng.permutation(len(matrix))[:, None], features]
            pending.append((position, shuffled))
        if len(pending) * matrix.nbytes >= _PENDING_BYTES:
            score_pending()
    if pending:
        score_pending()
    means = np.array([np.mean(d) if d else 0.0 for d in drops])
    stds = np.array([np.std(d) if d else 0.0 for d in drops])
    return means, stds


ScoreEach = Callable[[list[npt.NDArray[np.float64]]], list[float]]


def _auc_of_each(estimator: Any, matrix: npt.NDArray[Any], y: pd.Series) -> ScoreEach | None:
    """Score matrices (``matrix`` with some features shuffled; same rows as ``y``) by
    ROC AUC in one ``predict_proba`` call over the rows that differ from ``matrix``.

    ``None`` unless the estimator has two classes and ``y`` holds both (then the
    scikit-learn scorer keeps its own behaviour).
    """
    classes = getattr(estimator, "classes_", None)
    if classes is None or len(classes) != 2 or y.nunique() != 2:
        return None
    positive = y.to_numpy() == classes[1]
    unshuffled = estimator.predict_proba(matrix)[:, 1]

    def score_each(matrices: list[npt.NDArray[np.float64]]) -> list[float]:
        # NaN differs from itself: a row holding one is predicted again, harmlessly
        changed = [np.flatnonzero((m != matrix).any(axis=1)) for m in matrices]
        rows = np.concatenate([m[c] for m, c in zip(matrices, changed, strict=True)])
        predicted = estimator.predict_proba(rows)[:, 1] if len(rows) else np.empty(0)
        scores, start = [], 0
        for rows_changed in changed:
            score = unshuffled.copy()
            score[rows_changed] = predicted[start : start + len(rows_changed)]
            start += len(rows_changed)
            scores.append(roc_auc(positive, score))
        return scores

    return score_each
