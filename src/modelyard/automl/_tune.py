"""Tune: an Optuna study over one algorithm's catalog search space, driven by ask/tell.

Trials are asked in batches as wide as the Executor, scored by cross-validation on
its workers, then told in trial order. Telling a batch only once all of it is
back keeps the study deterministic: the same seed and trial count give the same
trials on a local pool and on Ray. The study lives in the workspace's database,
so ``resume`` continues one after a kill: trials the dead process left running
are marked failed, finished ones are kept, and numbering continues.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from modelyard.automl._fold import score_folds
from modelyard.automl._leaderboard import Entry, primary_metric
from modelyard.automl._problem import Problem, fold_indices, load_problem
from modelyard.automl._runs import log_recipe, record_entry
from modelyard.automl._spotcheck import DEFAULT_SAMPLE
from modelyard.automl._study import load_study_info, make_pruner, make_sampler, storage
from modelyard.errors import InvalidInputError

if TYPE_CHECKING:
    from modelyard.execution import Executor
    from modelyard.features import Recipe
    from modelyard.workspace import Workspace

__all__ = ["TrialResult", "TuneResult", "resume", "tune"]


@dataclass(frozen=True)
class TrialResult:
    """One told trial: its number, parameters, score (``None`` unless ``complete``),
    its state (``complete``, ``pruned`` or ``failed``), why it did not complete, the
    study's best score once it was told (``None`` before any trial finished), and its
    mean fit seconds per fold (what AutoML's final fit of it is estimated from)."""

    number: int
    params: dict[str, Any]
    value: float | None
    error: str | None = None
    state: str = "complete"
    best: float | None = None
    fit_seconds: float | None = None


@dataclass
class TuneResult:
    """What a tuning session left in its study.

    Attributes:
        study: the study's name (``tune --resume`` takes it).
        dataset / algorithm / task: what was tuned.
        metric / greater_is_better: the objective.
        best_params / best_value: the best finished trial of the whole study.
        finished: finished trials in the study; ``pruned`` and ``failed``: the others.
        trials: the trials this session told.
        stopped: why it stopped: ``trials`` (the count reached) or ``time``.
        run_id: this session's parent run.
        best_fit_seconds: the mean fit seconds per fold of this session's best
            trial (``None`` when none finished, or the best came before a resume).
    """

    study: str
    dataset: str
    algorithm: str
    task: str
    metric: str
    greater_is_better: bool
    best_params: dict[str, Any] = field(default_factory=dict)
    best_value: float | None = None
    finished: int = 0
    pruned: int = 0
    failed: int = 0
    trials: list[TrialResult] = field(default_factory=list)
    stopped: str = "trials"
    run_id: str | None = None
    best_fit_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "study": self.study,
            "dataset": self.dataset,
            "algorithm": self.algorithm,
            "task": self.task,
            "metric": self.metric,
            "greater_is_better": self.greater_is_better,
            "best_params": self.best_params,
            "best_value": self.best_value,
            "finished": self.finished,
            "pruned": self.pruned,
            "failed": self.failed,
            "stopped": self.stopped,
            "run_id": self.run_id,
            "best_fit_seconds": self.best_fit_seconds,
            "trials": [t.__dict__ for t in self.trials],
        }


def tune(
    workspace: Workspace,
    dataset: str,
    *,
    algorithm: str = "lightgbm",
    target: str | None = None,
    task: str | None = None,
    metric: str | None = None,
    trials: int | None = 20,
    budget_seconds: float | None = None,
    sampler: str = "tpe",
    pruner: str = "median",
    folds: int = 3,
    sample: int | None = DEFAULT_SAMPLE,
    seed: int = 0,
    executor: Executor | None = None,
    progress: Callable[[TrialResult], None] | None = None,
    problem: Problem | None = None,
    warm_start: str | list[dict[str, Any]] | None = None,
    space: dict[str, dict[str, Any]] | None = None,
    stop_at: Callable[[float | None], float] | None = None,
    recipe: Recipe | None = None,
) -> TuneResult:
    """Start a study tuning ``algorithm`` on ``dataset`` and run it to its budget.

    ``pruner`` (``median``, ``hyperband`` or ``none``) stops a trial whose running
    mean over its first folds is poor. The budget is ``trials`` trials (finished,
    pruned or failed) and/or ``budget_seconds`` of wall time, whichever comes first
    (at least one is needed). ``progress`` receives each trial as it is told.
    ``warm_start`` (an earlier study's name, or parameter sets) gives the first
    trials: that study's best parameters, or the sets given. ``space`` overrides
    dimensions of the catalog's search space (see :mod:`modelyard.automl._space`);
    the study keeps it, so a resumed study searches the same space. ``stop_at``
    moves the end earlier as the search goes: given the best trial's fit seconds per
    fold so far, the ``time.time()`` by which to stop (AutoML keeps back what its
    final fit of the winner will take, and a slower winner needs more).
    ``recipe``: the user's feature recipe, fitted in each fold on its training rows
    (its training-only row filters applied to the search rows); the study keeps it,
    so a resumed study searches with the same one. With ``problem`` given, its
    recipe is the one used.

    Raises:
        NotFoundError: no such dataset.
        InvalidInputError: bad data or recipe, algorithm, metric, sampler, folds or
            budget (before a study exists).
    """
    import optuna

    from modelyard.training import get_algorithm

    _check_budget(trials, budget_seconds)
    entry = get_algorithm(algorithm)
    if problem is None:
        problem = load_problem(
            workspace, dataset, target=target, task=task, sample=sample, seed=seed, recipe=recipe
        )
    if not entry.supports(problem.task):
        raise InvalidInputError(
            f"algorithm {algorithm!r} does not support {problem.task} tasks",
            details={"algorithm": algorithm},
        )
    name, greater = primary_metric(problem.task, metric)
    fold_indices(problem, folds, seed)  # refuses bad folds before a study exists
    sampler_object = make_sampler(sampler, entry, problem.task, seed)
    pruner_object = make_pruner(pruner, folds)
    if space:
        from modelyard.automl._space import check_overrides

        check_overrides(entry, problem.task, space)
    import uuid

    study_name = uuid.uuid4().hex
    info = {
        "dataset": problem.dataset,
        "target": problem.target,
        "task": problem.task,
        "algorithm": algorithm,
        "metric": name,
        "folds": folds,
        "sample": sample,
        "seed": seed,
        "sampler": sampler,
        "pruner": pruner,
        "trials": trials,
        "space": space or {},
        "recipe": problem.recipe.to_dict() if problem.recipe is not None else None,
    }
    with storage(workspace) as store:
        first = _warm_start(store, warm_start, algorithm)  # checked before a study exists
        study = optuna.create_study(
            storage=store,
            sampler=sampler_object,
            pruner=pruner_object,
            study_name=study_name,
            direction="maximize" if greater else "minimize",
        )
        study.set_user_attr("modelyard", info)
        for params in first:
            study.enqueue_trial(params, skip_if_exists=True)
        return _run(
            workspace, study, info, problem, trials, budget_seconds, executor, progress, stop_at
        )


def resume(
    workspace: Workspace,
    study: str,
    *,
    trials: int | None = None,
    budget_seconds: float | None = None,
    executor: Executor | None = None,
    progress: Callable[[TrialResult], None] | None = None,
) -> TuneResult:
    """Continue the study called ``study`` (after a kill, or with a larger budget).

    Trials it had finished are kept; trials a dead process left running are marked
    failed; numbering continues. ``trials`` (default: the study's own) is the
    total of finished trials to reach.

    Raises:
        NotFoundError: no such study.
        InvalidInputError: the study already has its trials and no time budget was given.
    """
    from optuna.trial import TrialState

    with storage(workspace) as store:
        loaded, info = load_study_info(store, study)
        for trial in loaded.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            loaded.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
        total = trials if trials is not None else info.get("trials")
        done = _spent(loaded)
        if budget_seconds is None and (total is None or done >= total):
            raise InvalidInputError(
                f"study {study} is finished: {done} of {total} trials; give a larger --trials "
                "or a --budget to continue it",
                details={"study": study, "finished": done},
            )
        problem = load_problem(
            workspace,
            info["dataset"],
            target=info["target"],
            task=info["task"],
            sample=info["sample"],
            seed=info["seed"],
            recipe=_recipe(info),
        )
        # a new seed for each session: a seeded sampler must not repeat the first one's points
        sampler = make_sampler(
            info["sampler"],
            _algorithm(info["algorithm"]),
            problem.task,
            info["seed"] + len(loaded.trials),
        )
        import optuna

        again = optuna.load_study(
            study_name=study,
            storage=store,
            sampler=sampler,
            pruner=make_pruner(info.get("pruner", "median"), info["folds"]),
        )
        return _run(workspace, again, info, problem, total, budget_seconds, executor, progress)


def _warm_start(
    store: Any, source: str | list[dict[str, Any]] | None, algorithm: str
) -> list[dict[str, Any]]:
    """The parameter sets to try first.

    Raises:
        NotFoundError: no such study.
        InvalidInputError: the study tuned another algorithm, or has no finished trial.
    """
    if source is None:
        return []
    if not isinstance(source, str):
        return [dict(p) for p in source]
    from optuna.trial import TrialState

    earlier, info = load_study_info(store, source)
    if info["algorithm"] != algorithm:
        raise InvalidInputError(
            f"study {source} tuned {info['algorithm']}, not {algorithm}: its parameters "
            "cannot start this study",
            details={"study": source},
        )
    if not earlier.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise InvalidInputError(f"study {source} has no finished trial to start from")
    return [dict(earlier.best_trial.params)]


def _space(trial: Any, info: dict[str, Any]) -> Any:
    """The trial, answering from the study's space overrides where it has them."""
    overrides = info.get("space") or {}
    if not overrides:
        return trial
    from modelyard.automl._space import OverriddenSpace

    return OverriddenSpace(trial, overrides)


def _recipe(info: dict[str, Any]) -> Recipe | None:
    """The feature recipe the study was started with (``None``: none, or a study
    started before studies kept one)."""
    from modelyard.features import Recipe

    kept = info.get("recipe")
    return Recipe.from_dict(kept) if kept is not None else None


def _algorithm(name: str) -> Any:
    from modelyard.training import get_algorithm

    return get_algorithm(name)


def _check_budget(trials: int | None, seconds: float | None) -> None:
    if trials is None and seconds is None:
        raise InvalidInputError("give a budget: --trials N and/or --budget DURATION")
    if trials is not None and trials < 1:
        raise InvalidInputError(f"--trials {trials}: at least one trial is needed")
    if seconds is not None and seconds <= 0:
        raise InvalidInputError(f"--budget {seconds:g}s: the budget must be positive")


def _run(
    workspace: Workspace,
    study: Any,
    info: dict[str, Any],
    problem: Problem,
    trials: int | None,
    budget_seconds: float | None,
    executor: Executor | None,
    progress: Callable[[TrialResult], None] | None,
    stop_at: Callable[[float | None], float] | None = None,
) -> TuneResult:
    """Ask, score on the executor, tell, until the budget is spent."""

    from modelyard.execution import executor_from_settings
    from modelyard.training import available_threads

    deadline = None if budget_seconds is None else time.time() + budget_seconds
    entry = _algorithm(info["algorithm"])
    splits = fold_indices(problem, info["folds"], info["seed"])
    result = TuneResult(
        study.study_name,
        problem.dataset,
        info["algorithm"],
        problem.task,
        info["metric"],
        study.direction.name == "MAXIMIZE",
    )
    experiment = f"tune-{problem.dataset.split(':')[0]}"
    with ExitStack() as stack:
        parent = stack.enter_context(
            workspace.start_run(experiment, name=f"tune-{info['algorithm']}-{problem.dataset}")
        )
        parent.set_tags({"automl": "tune", "study": study.study_name, "task": problem.task})
        # the recipe (a list of steps) is an artifact, not one long parameter
        parent.log_params({k: v for k, v in info.items() if v is not None and k != "recipe"})
        log_recipe(parent, problem)
        result.run_id = parent.id
        if executor is None:
            executor = stack.enter_context(executor_from_settings(workspace.settings))
        threads = max(1, available_threads(workspace.settings.max_threads) // executor.workers)
        while True:
            done = _spent(study)
            if trials is not None and done >= trials:
                result.stopped = "trials"
                break
            if deadline is not None and time.time() >= deadline:
                result.stopped = "time"
                break
            if stop_at is not None and time.time() >= stop_at(result.best_fit_seconds):
                result.stopped = "time"
                break
            width = executor.workers if trials is None else min(executor.workers, trials - done)
            asked = [study.ask() for _ in range(width)]
            params = [entry.space(_space(trial, info), problem.task) for trial in asked]
            scored = _score_batch(executor, problem, info, asked, params, splits, threads, deadline)
            for trial, trial_params, (folds, pruned) in zip(asked, params, scored, strict=True):
                told = _tell(study, trial, trial_params, folds, info["metric"], pruned, len(splits))
                told = replace(told, best=_best_value(study))
                if told.value is not None and told.value == told.best:
                    result.best_fit_seconds = told.fit_seconds
                _record(workspace, experiment, parent.id, study, trial, trial_params, folds)
                result.trials.append(told)
                if progress is not None:
                    progress(told)
        _summarise(study, result)
        _log_report(parent, study, result)
        if result.best_value is not None:
            parent.log_metrics({f"best_{result.metric}": result.best_value})
        parent.log_metrics({"finished_trials": float(result.finished)})
    return result


def _score_batch(
    executor: Executor,
    problem: Problem,
    info: dict[str, Any],
    asked: list[Any],
    params: list[dict[str, Any]],
    splits: list[Any],
    threads: int,
    deadline: float | None,
) -> list[tuple[list[Any], bool]]:
    """Each trial's fold scores, and whether it was pruned.

    Fold by fold, the batch's trials still alive run in parallel; after each fold a
    trial reports its running mean and the study's pruner may stop it, so a poor
    trial does not spend the budget on its remaining folds.
    """
    metric = info["metric"]
    folds: list[list[Any]] = [[] for _ in asked]
    pruned = [False] * len(asked)
    alive = list(range(len(asked)))
    for index, split in enumerate(splits):
        if not alive:
            break
        items = [
            (problem, info["algorithm"], params[i], [split], index, info["seed"], threads, deadline)
            for i in alive
        ]
        still = []
        for i, out in zip(alive, executor.map(score_folds, items), strict=True):
            folds[i].extend(out)
            if out[0].error is not None or metric not in out[0].metrics:
                continue  # a failed fold fails the trial: no more folds for it
            values = [f.metrics[metric] for f in folds[i]]
            asked[i].report(sum(values) / len(values), index)
            if index + 1 < len(splits) and asked[i].should_prune():
                pruned[i] = True
                continue
            still.append(i)
        alive = still
    return list(zip(folds, pruned, strict=True))


def _tell(
    study: Any,
    trial: Any,
    params: dict[str, Any],
    folds: list[Any],
    metric: str,
    pruned: bool,
    expected: int,
) -> TrialResult:
    from optuna.trial import TrialState

    errors = [f"fold {f.fold}: {f.error}" for f in folds if f.error is not None]
    values = [f.metrics[metric] for f in folds if f.error is None and metric in f.metrics]
    if pruned:
        study.tell(trial, state=TrialState.PRUNED)
        return TrialResult(
            trial.number, params, None, f"pruned after {len(folds)} fold(s)", "pruned"
        )
    if errors or len(values) != expected:
        reason = "; ".join(errors) or f"{metric} undefined on a fold"
        trial.set_user_attr("error", reason)
        study.tell(trial, state=TrialState.FAIL)
        return TrialResult(trial.number, params, None, reason, "failed")
    value = sum(values) / len(values)
    study.tell(trial, value)
    fit_seconds = sum(f.fit_seconds for f in folds) / len(folds)
    return TrialResult(trial.number, params, value, fit_seconds=fit_seconds)


def _record(
    workspace: Workspace,
    experiment: str,
    parent: str,
    study: Any,
    trial: Any,
    params: dict[str, Any],
    folds: list[Any],
) -> None:
    """The trial as a child run of this session's run."""
    entry = Entry(study.user_attrs["modelyard"]["algorithm"], params, len(folds))
    for fold in folds:
        if fold.error is not None:
            entry.errors[fold.fold] = fold.error
        else:
            entry.scores[fold.fold] = fold.metrics
            entry.fit_seconds += fold.fit_seconds
            entry.predict_seconds += fold.predict_seconds
    record_entry(
        workspace,
        experiment,
        parent,
        entry,
        "trial",
        {"study": study.study_name, "trial": trial.number},
    )


def _log_report(run: Any, study: Any, result: TuneResult) -> None:
    """The study's HTML report as an artifact of this session's run."""
    from modelyard.automl._report import STUDY_ARTIFACT, render_study

    run.log_bytes(render_study(study, result).encode("utf-8"), STUDY_ARTIFACT)


def _best_value(study: Any) -> float | None:
    """The study's best finished score so far (``None`` before the first)."""
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return None
    return float(study.best_value)


def _spent(study: Any) -> int:
    """Trials that count against a trial budget: finished, pruned, or failed while
    scoring (not those a killed process left running: resume retries their slots)."""
    from optuna.trial import TrialState

    scored = (TrialState.COMPLETE, TrialState.PRUNED)
    return sum(
        1
        for t in study.get_trials(deepcopy=False)
        if t.state in scored or (t.state == TrialState.FAIL and "error" in t.user_attrs)
    )


def _summarise(study: Any, result: TuneResult) -> None:
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    result.finished = len(complete)
    result.failed = len(study.get_trials(deepcopy=False, states=(TrialState.FAIL,)))
    result.pruned = len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))
    if complete:
        best = study.best_trial
        result.best_params = dict(best.params)
        result.best_value = best.value
