"""One work item of a search: fit an algorithm on some folds, score the held-out rows.

A module-level function of picklable arguments, so it runs on any Executor. A
failure (a fold with one class, memory, a library error) comes back as data with
its reason, never as an exception: one algorithm failing must not stop the search.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from modelyard.automl._problem import Problem

__all__ = ["FoldScore", "score_folds"]

Folds = list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]


@dataclass(frozen=True)
class FoldScore:
    """The outcome of one fold.

    Attributes:
        fold: the fold's index.
        metrics: every metric of the task on the held-out rows (empty on failure).
        fit_seconds: the recipe and the model's fit.
        predict_seconds: predicting the held-out rows.
        error: why it failed (``None`` when it did not).
    """

    fold: int
    metrics: dict[str, float] = field(default_factory=dict)
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0
    error: str | None = None


def score_folds(
    problem: Problem,
    algorithm: str,
    params: dict[str, Any],
    folds: Folds,
    first_fold: int,
    seed: int,
    threads: int,
    deadline: float | None = None,
) -> list[FoldScore]:
    """Fit ``algorithm`` with ``params`` on each fold in turn and score it.

    ``deadline`` (``time.time()``) is checked before each fold: a fold not started
    by then is reported as failed for the budget, so a search stops on time.
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    results = []
    with threadpool_limits(limits=threads):
        for offset, (train, test) in enumerate(folds):
            index = first_fold + offset
            if deadline is not None and time.time() >= deadline:
                results.append(FoldScore(index, error="the time budget ran out"))
                continue
            results.append(_one(problem, algorithm, params, train, test, index, seed, threads))
    return results


def _one(
    problem: Problem,
    algorithm: str,
    params: dict[str, Any],
    train: npt.NDArray[np.int64],
    test: npt.NDArray[np.int64],
    index: int,
    seed: int,
    threads: int,
) -> FoldScore:
    from modelyard.features import PreprocessOptions, build_pipeline
    from modelyard.training import get_algorithm

    try:
        entry = get_algorithm(algorithm)
        estimator = entry.estimator(problem.task, params, seed, threads)
        # the recipe is fitted with the model, on this fold's training rows only,
        # as the training job fits it on its training split
        options = PreprocessOptions(recipe=problem.recipe)
        pipeline = build_pipeline(
            problem.columns, estimator, needs_scaling=entry.needs_scaling, options=options
        )
        started = time.perf_counter()
        pipeline.fit(problem.X.iloc[train], problem.y[train])
        fitted = time.perf_counter()
        metrics = _metrics(problem, pipeline, test)
        predicted = time.perf_counter()
    except Exception as exc:  # recorded as the fold's failure: the search goes on
        reason = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return FoldScore(index, error=reason)
    return FoldScore(index, metrics, fitted - started, predicted - fitted)


def _metrics(problem: Problem, pipeline: Any, test: npt.NDArray[np.int64]) -> dict[str, float]:
    from modelyard.evaluation import classification_metrics, regression_metrics

    X, y = problem.X.iloc[test], problem.y[test]
    if problem.task == "regression":
        return regression_metrics(
            y.astype(np.float64), np.asarray(pipeline.predict(X), dtype=np.float64)
        )
    classes = int(problem.y.max()) + 1
    proba = np.zeros((len(test), classes))
    # a fold's model knows only the classes its rows held: place its columns
    known = np.asarray(pipeline[-1].classes_, dtype=np.int64)
    proba[:, known] = pipeline.predict_proba(X)
    return classification_metrics(y, proba, proba.argmax(axis=1).astype(np.int64))
