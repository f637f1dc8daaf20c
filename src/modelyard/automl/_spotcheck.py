"""Spot-check: every catalog algorithm for the task, with its defaults, cross-validated.

Each (algorithm, fold) pair is one work item on the Executor, so folds and
algorithms run in parallel wherever the workspace's executor runs. The search is
one parent run; each algorithm a child run holding its fold scores, or failed
with the reason of each failed fold (the others go on).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from modelyard.automl._fold import score_folds
from modelyard.automl._leaderboard import Entry, Leaderboard, primary_metric
from modelyard.automl._problem import Problem, fold_indices, load_problem
from modelyard.automl._runs import log_recipe, record_entry
from modelyard.errors import InvalidInputError

if TYPE_CHECKING:
    from modelyard.execution import Executor
    from modelyard.features import Recipe
    from modelyard.workspace import Workspace

__all__ = ["spotcheck"]

DEFAULT_SAMPLE = 10_000


def spotcheck(
    workspace: Workspace,
    dataset: str,
    *,
    target: str | None = None,
    task: str | None = None,
    metric: str | None = None,
    algorithms: list[str] | None = None,
    folds: int = 5,
    sample: int | None = DEFAULT_SAMPLE,
    seed: int = 0,
    executor: Executor | None = None,
    deadline: float | None = None,
    experiment: str | None = None,
    progress: Callable[[Leaderboard], None] | None = None,
    recipe: Recipe | None = None,
) -> Leaderboard:
    """Cross-validate every algorithm that supports the task (or ``algorithms``).

    ``progress`` receives the leaderboard after each finished fold. ``deadline``
    (``time.time()``) stops the search: folds not started by then fail for the budget.
    ``recipe``: the user's feature recipe, fitted in each fold on its training rows
    (its training-only row filters applied to the search rows), as ``train`` would.

    Raises:
        NotFoundError: no such dataset.
        InvalidInputError: bad data or recipe (as the training job says), folds,
            sample, metric or algorithm name; nothing is recorded then.
    """
    problem = load_problem(
        workspace, dataset, target=target, task=task, sample=sample, seed=seed, recipe=recipe
    )
    names = _algorithms(problem, algorithms)
    return run_spotcheck(
        workspace,
        problem,
        names,
        folds=folds,
        metric=metric,
        seed=seed,
        executor=executor,
        deadline=deadline,
        experiment=experiment,
        progress=progress,
    )


def run_spotcheck(
    workspace: Workspace,
    problem: Problem,
    algorithms: list[str],
    *,
    folds: int,
    metric: str | None,
    seed: int,
    executor: Executor | None,
    deadline: float | None,
    experiment: str | None,
    progress: Callable[[Leaderboard], None] | None,
    exempt: int = 0,
) -> Leaderboard:
    """:func:`spotcheck` on rows already loaded (``auto`` shares them with tuning).

    The first ``exempt`` algorithms run all their folds whatever the deadline, so a
    search that must end with a model always has one candidate.
    """
    from modelyard.execution import executor_from_settings
    from modelyard.training import available_threads

    started = time.perf_counter()
    name, greater = primary_metric(problem.task, metric)
    splits = fold_indices(problem, folds, seed)
    entries = [Entry(a, {}, len(splits)) for a in algorithms]
    board = Leaderboard(problem.dataset, problem.task, name, greater, entries, rows=len(problem.y))
    experiment = experiment or f"spotcheck-{problem.dataset.split(':')[0]}"
    with ExitStack() as stack:
        parent = stack.enter_context(
            workspace.start_run(experiment, name=f"spotcheck-{problem.dataset}")
        )
        parent.set_tags({"automl": "spotcheck", "task": problem.task, "metric": name})
        parent.log_params(
            {"dataset": problem.dataset, "folds": len(splits), "rows": len(problem.y)}
        )
        board.run_id = parent.id
        log_recipe(parent, problem)
        if executor is None:
            executor = stack.enter_context(executor_from_settings(workspace.settings))
        threads = max(1, available_threads(workspace.settings.max_threads) // executor.workers)
        items: list[tuple[Any, ...]] = [
            (
                problem,
                entry.algorithm,
                {},
                [splits[f]],
                f,
                seed,
                threads,
                None if i < exempt else deadline,
            )
            for i, entry in enumerate(entries)
            for f in range(len(splits))
        ]
        owners = [entry for entry in entries for _ in splits]
        for index, results in executor.as_completed(score_folds, items):
            entry = owners[index]
            for result in results:
                if result.error is not None:
                    entry.errors[result.fold] = result.error
                else:
                    entry.scores[result.fold] = result.metrics
                    entry.fit_seconds += result.fit_seconds
                    entry.predict_seconds += result.predict_seconds
            if entry.done:
                record_entry(workspace, experiment, parent.id, entry, "spotcheck")
            if progress is not None:
                progress(board)
        _log_report(parent, board)
        best = board.best()
        if best is not None:
            parent.log_metrics({f"best_{name}": best.mean(name) or 0.0})
            parent.set_tag("best_algorithm", best.algorithm)
        parent.log_metric("seconds", time.perf_counter() - started)
    return board


def _log_report(run: Any, board: Leaderboard) -> None:
    """The HTML leaderboard as an artifact of the search's run."""
    from modelyard.automl._report import LEADERBOARD_ARTIFACT, render_leaderboard

    run.log_bytes(render_leaderboard(board).encode("utf-8"), LEADERBOARD_ARTIFACT)


def _algorithms(problem: Problem, names: list[str] | None) -> list[str]:
    """The requested algorithms (checked), or every one that supports the task and
    the row count and whose library is installed."""
    from modelyard.errors import MissingDependencyError
    from modelyard.training import ALGORITHMS, get_algorithm

    if names:
        chosen = [get_algorithm(n) for n in names]
        for algorithm in chosen:
            if not algorithm.supports(problem.task):
                raise InvalidInputError(
                    f"algorithm {algorithm.name!r} does not support {problem.task} tasks",
                    details={"algorithm": algorithm.name},
                )
        return [a.name for a in chosen]
    usable = []
    for algorithm in ALGORITHMS.values():
        if not algorithm.supports(problem.task):
            continue
        if algorithm.max_rows is not None and len(problem.y) > algorithm.max_rows:
            continue
        try:
            algorithm.estimator(problem.task, {}, 0, 1)
        except MissingDependencyError:  # its extra is not installed: nothing to check
            continue
        usable.append(algorithm.name)
    return usable
