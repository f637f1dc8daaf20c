"""Fitting a training job's pipeline: early stopping, the decision threshold, the refit.

The steps run one after another on purpose: XGBoost and LightGBM spin a pool of
OpenMP threads over ``threads`` cores, and anything run beside them competes with
threads that busy-wait, which slows the fit far more than it saves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

if TYPE_CHECKING:
    from modelyard.evaluation import ThresholdChoice
    from modelyard.training._job import TrainingInputs
    from modelyard.training._spec import TrainingSpec

__all__ = ["Fitted", "fit", "refit_all"]

_EARLY_STOPPING_ROUNDS = 30
_THRESHOLD_FOLDS = 5


@dataclass(frozen=True)
class Fitted:
    """A fitted pipeline and what was learnt beside it.

    Attributes:
        pipeline: the recipe and the estimator, fitted.
        params: the hyperparameters used (``n_estimators`` resolved by early stopping).
        threshold: the binary decision threshold, chosen on rows the test metrics
            do not use; ``None`` for other tasks.
        rows: the raw rows the final pipeline was fitted on (training, plus
            validation after a refit, plus test after :func:`refit_all`) and their
            encoded targets.
        test_matrix: the test split through the final recipe.
        learnt: the splits the final pipeline was fitted on.
    """

    pipeline: Any
    params: dict[str, Any]
    threshold: ThresholdChoice | None
    rows: tuple[pd.DataFrame, npt.NDArray[Any]]
    test_matrix: npt.NDArray[Any]
    learnt: tuple[str, ...] = ("train",)


def fit(
    problem: TrainingInputs,
    spec: TrainingSpec,
    X: dict[str, pd.DataFrame],
    y: dict[str, npt.NDArray[Any]],
    threads: int,
    say: Any,
) -> Fitted:
    """Fit the pipeline on the training split.

    Boosting models first stop early on the validation split and are then fitted
    again with exactly the best number of rounds. A binary model's threshold is
    chosen on the validation split (out-of-fold on the training split when there is
    none). With ``spec.refit`` the recipe and model are then fitted once more on
    training and validation rows together, with the rounds and threshold kept.
    """
    from sklearn.base import clone

    from modelyard.features import build_pipeline

    algorithm, task = problem.algorithm, problem.task
    params = {**algorithm.defaults(task), **spec.params}
    estimator = algorithm.estimator(task, spec.params, spec.seed, threads)
    pipeline = build_pipeline(
        problem.version.columns,
        estimator,
        needs_scaling=algorithm.needs_scaling,
        options=spec.preprocessing,
    )
    recipe = pipeline[0]
    say("fitting", f"fitting {spec.algorithm} on {len(X['train']):,} rows")
    recipe.fit(X["train"], y["train"])
    train_matrix = recipe.transform(X["train"])
    has_validation = len(X["validation"]) > 0
    valid_matrix = recipe.transform(X["validation"]) if has_validation else None
    rounds = _Rounds(algorithm.name, say, f"fitting {spec.algorithm}")
    if algorithm.early_stopping and valid_matrix is not None and "n_estimators" not in spec.params:
        best = _best_iterations(
            rounds.named(f"stopping {spec.algorithm} early on the validation split"),
            clone(estimator),
            (train_matrix, y["train"]),
            (valid_matrix, y["validation"]),
        )
        params["n_estimators"] = best
        estimator = algorithm.estimator(
            task, {**spec.params, "n_estimators": best}, spec.seed, threads
        )
        pipeline.steps[-1] = ("model", estimator)
    rounds.fit(estimator, train_matrix, y["train"])

    threshold = None
    if task == "binary":
        say("choosing the decision threshold", "choosing the decision threshold")
        threshold = _threshold(spec, estimator, (train_matrix, y["train"]), valid_matrix, y)
    rows = (X["train"], y["train"])
    learnt: tuple[str, ...] = ("train",)
    if spec.refit and has_validation:
        learnt = ("train", "validation")
        rounds = rounds.named(f"refitting {spec.algorithm}")
        pipeline, rows = _refit(pipeline, learnt, X, y, rounds, say)
    return Fitted(pipeline, params, threshold, rows, pipeline[0].transform(X["test"]), learnt)


def refit_all(
    fitted: Fitted,
    spec: TrainingSpec,
    X: dict[str, pd.DataFrame],
    y: dict[str, npt.NDArray[Any]],
    library: str,
    say: Any,
) -> Fitted:
    """``fitted`` fitted once more on every split, after its evaluation on the test
    split: the recipe and the model learn from every row, with the rounds and the
    threshold kept (``TrainingSpec.refit_all``). ``test_matrix`` is the test split
    through the new recipe (for the ONNX parity check, not for metrics)."""
    splits = tuple(s for s in ("train", "validation", "test") if len(X[s]) > 0)
    rounds = _Rounds(library, say, f"refitting {spec.algorithm} on every row")
    pipeline, rows = _refit(fitted.pipeline, splits, X, y, rounds, say)
    matrix = pipeline[0].transform(X["test"])
    return replace(fitted, pipeline=pipeline, rows=rows, test_matrix=matrix, learnt=splits)


def _refit(
    pipeline: Any,
    splits: tuple[str, ...],
    X: dict[str, pd.DataFrame],
    y: dict[str, npt.NDArray[Any]],
    rounds: _Rounds,
    say: Any,
) -> tuple[Any, tuple[pd.DataFrame, npt.NDArray[Any]]]:
    """A clone of ``pipeline`` (its parameters, boosting rounds included) fitted on
    ``splits`` together, and those rows."""
    from sklearn.base import clone

    rows = (
        pd.concat([X[s] for s in splits], ignore_index=True),
        np.concatenate([y[s] for s in splits]),
    )
    say("fitting", f"refitting on {len(rows[0]):,} rows ({', '.join(splits)})")
    refitted = clone(pipeline)
    refitted[0].fit(*rows)
    rounds.fit(refitted[-1], refitted[0].transform(rows[0]), rows[1])
    return refitted, rows


class _Rounds:
    """Fits that report each boosting round as progress, through the libraries'
    public callbacks (XGBoost's ``TrainingCallback``, LightGBM's ``callbacks``): a
    long fit is the job's longest stage, and a bar that does not move for a minute
    looks hung. Other algorithms fit without reports."""

    def __init__(self, library: str, say: Any, label: str) -> None:
        self.library, self.say, self.label = library, say, label

    def named(self, label: str) -> _Rounds:
        """The same reporter for another fit."""
        return _Rounds(self.library, self.say, label)

    def report(self, done: int, total: int) -> None:
        self.say("fitting", f"{self.label}: round {done:,} of {total:,}")

    def fit(self, estimator: Any, X: npt.NDArray[Any], y: npt.NDArray[Any], **kw: Any) -> None:
        """``estimator.fit(X, y, **kw)`` with a report after each round."""
        total = int(estimator.get_params().get("n_estimators") or 0)
        if self.library == "lightgbm":
            callbacks = [*kw.pop("callbacks", []), self._lightgbm(total)]
            estimator.fit(X, y, callbacks=callbacks, **kw)
        elif self.library == "xgboost":
            # a fit parameter of XGBoost's estimator: set for this fit only, so the
            # fitted model pickles without it
            estimator.set_params(callbacks=[self._xgboost(total)])
            try:
                estimator.fit(X, y, **kw)
            finally:
                estimator.set_params(callbacks=None)
        else:
            estimator.fit(X, y, **kw)

    def _lightgbm(self, total: int) -> Any:
        def after_round(env: Any) -> None:
            self.report(env.iteration + 1, total or env.end_iteration)

        return after_round

    def _xgboost(self, total: int) -> Any:
        import xgboost as xgb

        report = self.report

        class AfterRound(xgb.callback.TrainingCallback):
            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                report(epoch + 1, total)
                return False  # never stops the fit

        return AfterRound()


def _best_iterations(
    rounds: _Rounds,
    estimator: Any,
    train: tuple[npt.NDArray[Any], npt.NDArray[Any]],
    validation: tuple[npt.NDArray[Any], npt.NDArray[Any]],
) -> int:
    """Rounds at which validation loss was best (the refit uses exactly that many)."""
    if rounds.library == "xgboost":
        estimator.set_params(early_stopping_rounds=_EARLY_STOPPING_ROUNDS)
        rounds.fit(estimator, *train, eval_set=[validation], verbose=False)
        return int(estimator.best_iteration) + 1
    import inspect

    import lightgbm as lgb

    # LightGBM 4.7 renamed eval_set to eval_X/eval_y (and warns on the old name).
    if "eval_X" in inspect.signature(estimator.fit).parameters:
        evaluation: dict[str, Any] = {"eval_X": (validation[0],), "eval_y": (validation[1],)}
    else:
        evaluation = {"eval_set": [validation]}
    stopping = lgb.early_stopping(_EARLY_STOPPING_ROUNDS, verbose=False)
    rounds.fit(estimator, *train, callbacks=[stopping], **evaluation)
    return max(int(estimator.best_iteration_ or estimator.n_estimators), 1)


def _threshold(
    spec: TrainingSpec,
    estimator: Any,
    train: tuple[npt.NDArray[Any], npt.NDArray[Any]],
    valid_matrix: npt.NDArray[Any] | None,
    y: dict[str, npt.NDArray[Any]],
) -> ThresholdChoice:
    """The decision threshold, chosen on rows the test metrics never see.

    The validation split's predictions by the model fitted on the training split;
    without a validation split, out-of-fold predictions on the training split (the
    model refitted on each fold; the recipe, fitted once on all training rows, is
    shared, so a target encoding sees its fold's labels: slightly optimistic).
    """
    from dataclasses import replace

    from modelyard.evaluation import choose_threshold

    if valid_matrix is not None:
        scores = estimator.predict_proba(valid_matrix)[:, 1]
        choice = choose_threshold(y["validation"], scores, spec.threshold)
        return replace(choice, chosen_on="validation")
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    matrix, target = train
    folds = min(_THRESHOLD_FOLDS, int(np.bincount(target).min()))
    if folds < 2:  # a class with one training row: no fold could hold it out
        choice = choose_threshold(target[:1], np.full(1, 0.5), "default")
        return replace(choice, strategy=spec.threshold, chosen_on="fixed")
    splitter = StratifiedKFold(folds, shuffle=True, random_state=spec.seed)
    scores = cross_val_predict(
        clone(estimator), matrix, target, cv=splitter, method="predict_proba"
    )[:, 1]
    choice = choose_threshold(target, scores, spec.threshold)
    return replace(choice, chosen_on="out-of-fold")
