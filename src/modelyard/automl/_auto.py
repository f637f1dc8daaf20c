"""Auto: spot-check, tune the best candidates, then one ordinary training job.

The wall-time budget is split: a share for the spot-check, then tuning the top
candidates until what the final training job is estimated to take (fit on the
training and validation splits, evaluation on the test split, which the search
never sees, ONNX, registration) and a small safety share are left. Each stage
stops at its own deadline, so the whole command ends close to its budget; only
a linear model and LightGBM's defaults are always cross-validated, whatever the
deadline, so auto ends with a model no worse than those. A budget that cannot
fit one model says so before anything is registered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from modelyard.automl._problem import load_problem
from modelyard.automl._spotcheck import DEFAULT_SAMPLE, _algorithms, run_spotcheck
from modelyard.automl._tune import tune
from modelyard.errors import InvalidInputError

if TYPE_CHECKING:
    from modelyard.automl._leaderboard import Leaderboard
    from modelyard.automl._problem import Problem
    from modelyard.automl._tune import TuneResult
    from modelyard.execution import Executor
    from modelyard.features import Recipe
    from modelyard.training import TrainingResult
    from modelyard.workspace import Workspace

__all__ = ["AutoResult", "auto"]

MIN_BUDGET_SECONDS = 10.0
_SPOTCHECK_SHARE = 0.3
# kept back from tuning beside the final job's estimate: estimates are rough
_SAFETY_SHARE = 0.05
_SMALL_DATA = 2_000
_FIVE_FOLD_BUDGET = 300.0
_PACKAGING_SECONDS = 3.0
# scored whatever the budget, first: a linear model and LightGBM with its defaults,
# what a user would try by hand, so auto never ends below the better of the two
# (by cross-validation) however short its budget or busy its machine
_ALWAYS = ("linear", "lightgbm")
# rough fit cost on the same rows, cheapest first (kernel and neighbour methods grow
# fastest with rows; ensembles of many deep trees next)
_COST_ORDER = (
    "linear",
    "naive_bayes",
    "decision_tree",
    "lightgbm",
    "hist_gradient_boosting",
    "xgboost",
    "extra_trees",
    "random_forest",
    "knn",
    "svm",
)


@dataclass
class AutoResult:
    """What ``auto`` did.

    Attributes:
        leaderboard: the spot-check.
        studies: the tuning of each top candidate.
        algorithm / params: the winner given to the training job.
        cv_score: its cross-validated score.
        training: the final training job (model, evaluation, criteria).
        run_id: the search's parent run.
        seconds: wall time of the whole command.
    """

    leaderboard: Leaderboard
    studies: list[TuneResult] = field(default_factory=list)
    algorithm: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    cv_score: float | None = None
    training: TrainingResult | None = None
    run_id: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """The final model beat the trivial baseline and met every ``--require``."""
        return self.training is not None and self.training.passed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        training = self.training
        return {
            "algorithm": self.algorithm,
            "params": self.params,
            "metric": self.leaderboard.metric,
            "cv_score": self.cv_score,
            "passed": self.passed,
            "model": training.model.to_dict() if training and training.model else None,
            "test_metrics": training.evaluation.metrics if training else None,
            "criteria": [
                {"criterion": c, "passed": ok, "message": m}
                for c, ok, m in (training.messages if training else [])
            ],
            "leaderboard": self.leaderboard.to_dict()["leaderboard"],
            "studies": [s.study for s in self.studies],
            "run_id": self.run_id,
            "seconds": self.seconds,
        }


def auto(
    workspace: Workspace,
    dataset: str,
    *,
    budget_seconds: float,
    requirements: tuple[str, ...] = (),
    target: str | None = None,
    task: str | None = None,
    metric: str | None = None,
    model_name: str | None = None,
    candidates: int = 2,
    sample: int | None = DEFAULT_SAMPLE,
    seed: int = 0,
    executor: Executor | None = None,
    say: Callable[[str], None] | None = None,
    refit_all: bool = False,
    recipe: Recipe | None = None,
) -> AutoResult:
    """Find, train, evaluate and register a model for ``dataset`` within the budget.

    ``refit_all``: the winner, once evaluated on the test split, is fitted again on
    every row (``TrainingSpec.refit_all``), as FLAML's default retraining on all the
    data does; the recorded metrics stay the evaluated model's. ``recipe``: the
    user's feature recipe, fitted in every fold of the search on its training rows
    and by the final training job, so the registered model replays it.

    Raises:
        NotFoundError: no such dataset.
        InvalidInputError: bad data, recipe or criteria, or a budget too small for
            one fit (then nothing is registered).
    """
    from modelyard.evaluation import Criterion
    from modelyard.execution import executor_from_settings

    started = time.time()
    report = say or (lambda message: None)
    if budget_seconds < MIN_BUDGET_SECONDS:
        raise InvalidInputError(
            f"--budget {budget_seconds:g}s is too small for even one fit, evaluation and "
            f"registration: give at least {MIN_BUDGET_SECONDS:g}s",
            details={"budget_seconds": budget_seconds},
        )
    problem = load_problem(
        workspace, dataset, target=target, task=task, sample=sample, seed=seed, recipe=recipe
    )
    for text in requirements:  # refuse a bad criterion before the search spends the budget
        Criterion.parse(text, problem.task)
    # more folds steady a small data set's scores, when the budget can pay for them
    small = len(problem.y) <= _SMALL_DATA and budget_seconds >= _FIVE_FOLD_BUDGET
    folds = 5 if small else 3
    # cheapest first: the pool runs items in order, so a short budget still scores some
    names = sorted(_algorithms(problem, None), key=_cost_rank)
    always = [n for n in names if n in _ALWAYS]
    names = always + [n for n in names if n not in always]
    owned = executor is None
    runner = executor if executor is not None else executor_from_settings(workspace.settings)
    try:
        report(f"spot-checking {len(names)} algorithms on {len(problem.y):,} rows, {folds} folds")
        board = run_spotcheck(
            workspace,
            problem,
            names,
            folds=folds,
            metric=metric,
            seed=seed,
            executor=runner,
            deadline=started + _SPOTCHECK_SHARE * budget_seconds,
            experiment=f"auto-{problem.dataset.split(':')[0]}",
            progress=None,
            exempt=max(1, len(always)),  # auto must end with a model, and not a weak one
        )
        result = AutoResult(board, run_id=board.run_id)
        finished = [e for e in board.ranked() if e.status == "finished"]
        if not finished:
            raise InvalidInputError(
                f"--budget {budget_seconds:g}s is too small for even one fit: no algorithm "
                "finished its cross-validation in time; nothing was registered",
                details={"budget_seconds": budget_seconds},
            )
        best = finished[0]
        result.algorithm, result.cv_score = best.algorithm, best.mean(board.metric)
        # the final job fits on every training row: keep what the winner's folds
        # suggest that costs (a fixed share of the budget left most of it unused),
        # and more as soon as a slower configuration leads the search

        def tune_end(fold_seconds: float) -> float:
            final = _final_estimate(fold_seconds, len(problem.y), problem.rows_total, refit_all)
            return started + (1 - _SAFETY_SHARE) * budget_seconds - final

        winner_fold_seconds = best.fit_seconds / best.folds
        top = finished[:candidates]
        for index, entry in enumerate(top):
            left = (tune_end(winner_fold_seconds) - time.time()) / (len(top) - index)
            if left < 1:
                break
            report(f"tuning {entry.algorithm} for {left:.0f}s")
            study = tune(
                workspace,
                problem.dataset,
                algorithm=entry.algorithm,
                metric=board.metric,
                trials=None,
                budget_seconds=left,
                folds=folds,
                sample=sample,
                seed=seed,
                executor=runner,
                problem=problem,
                warm_start=_defaults(entry.algorithm, problem.task),
                stop_at=partial(_stop_at, tune_end, winner_fold_seconds),
            )
            result.studies.append(study)
            if study.best_value is not None and _better(
                study.best_value, result.cv_score, board.greater_is_better
            ):
                result.algorithm, result.params = entry.algorithm, study.best_params
                result.cv_score = study.best_value
                winner_fold_seconds = study.best_fit_seconds or winner_fold_seconds
    finally:
        if owned:
            runner.shutdown(cancel_pending=True)
    report(f"training {result.algorithm} on the full training split")
    # the search that chose the algorithm and parameters, in the model's lineage
    studies = [s.study for s in result.studies]
    lineage = {"automl_run": board.run_id, "studies": studies}
    result.training = _final_fit(
        workspace,
        problem.dataset,
        problem,
        result,
        requirements,
        model_name,
        seed,
        lineage,
        refit_all,
    )
    tags = {"automl_run": board.run_id, "studies": ",".join(studies)}
    workspace.runs.set_tags(result.training.run_id, tags)
    result.seconds = time.time() - started
    return result


def _stop_at(tune_end: Callable[[float], float], winner: float, found: float | None) -> float:
    """When a study must stop: its own best may be slower to fit than the winner so far,
    and the final job fits whichever wins (the slower of the two is kept back)."""
    return tune_end(max(winner, found or 0.0))


def _defaults(algorithm: str, task: Any) -> list[dict[str, Any]]:
    """The spot-checked defaults as the study's first trial, when the space holds them."""
    from modelyard.automl._study import defaults_in_space
    from modelyard.training import get_algorithm

    defaults = defaults_in_space(get_algorithm(algorithm), task)
    return [defaults] if defaults else []


def _final_estimate(
    fold_seconds: float, searched: int, total: int, refit_all: bool = False
) -> float:
    """Seconds the final training job may take: its fit on all rows (from one fold's
    fit on a share of the searched rows), the early-stopping, threshold and refit fits
    beside it (one more with ``refit_all``), evaluation and packaging (a fixed
    allowance)."""
    fits = 5.0 if refit_all else 4.0
    return fits * fold_seconds * max(total / max(searched, 1), 1.0) + _PACKAGING_SECONDS


def _cost_rank(name: str) -> int:
    return _COST_ORDER.index(name) if name in _COST_ORDER else len(_COST_ORDER)


def _better(value: float, than: float | None, greater: bool) -> bool:
    if than is None:
        return True
    return value > than if greater else value < than


def _final_fit(
    workspace: Workspace,
    dataset: str,
    problem: Problem,
    result: AutoResult,
    requirements: tuple[str, ...],
    model_name: str | None,
    seed: int,
    lineage: dict[str, Any],
    refit_all: bool,
) -> TrainingResult:
    """The winner through the ordinary training job, its run in the search's experiment.

    The search already chose on cross-validated training and validation rows, so
    the job refits the winner on both once its rounds and threshold are known: the
    model learns from every row but the test split's (and from those too, after the
    evaluation, with ``refit_all``). It fits the search's recipe too, so the
    registered model replays it."""
    from modelyard.features import PreprocessOptions
    from modelyard.training import TrainingSpec, train

    spec = TrainingSpec(
        dataset=dataset,
        target=problem.target,
        algorithm=result.algorithm,
        params=result.params,
        requirements=requirements,
        model_name=model_name,
        task=problem.task,
        seed=seed,
        experiment=f"auto-{dataset.split(':')[0]}",
        refit=True,
        refit_all=refit_all,
        preprocessing=PreprocessOptions(recipe=problem.recipe),
    )
    return train(workspace, spec, lineage=lineage)
