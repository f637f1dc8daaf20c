"""Tuning through the SDK: budgets, samplers, runs, resume, bad input."""

from __future__ import annotations

import time

import optuna
import pytest

from modelyard.automl import resume, tune
from modelyard.automl._study import storage
from modelyard.errors import InvalidInputError, NotFoundError
from modelyard.execution import LocalExecutor
from modelyard.workspace import Workspace


def test_trials_are_child_runs_and_resume_continues(search_workspace: Workspace) -> None:
    told: list[int] = []
    with LocalExecutor(1) as executor:
        first = tune(
            search_workspace,
            "churn",
            algorithm="decision_tree",
            trials=3,
            folds=2,
            sampler="random",
            executor=executor,
            progress=lambda t: told.append(t.number),
        )
        assert told == [0, 1, 2] and first.finished == 3 and first.stopped == "trials"
        assert first.best_value == max(t.value for t in first.trials if t.value is not None)
        assert set(first.best_params) == {"max_depth", "min_samples_leaf"}
        children = [
            r
            for r in search_workspace.runs.search(limit=500).runs
            if r.tags.get("parent_run") == first.run_id
        ]
        assert sorted(int(r.tags["trial"]) for r in children) == [0, 1, 2]
        assert all(r.tags["study"] == first.study for r in children)
        with pytest.raises(InvalidInputError, match="is finished: 3 of 3 trials"):
            resume(search_workspace, first.study, executor=executor)
        again = resume(search_workspace, first.study, trials=5, executor=executor)
    assert [t.number for t in again.trials] == [3, 4] and again.finished == 5
    with storage(search_workspace) as store:
        study = optuna.load_study(study_name=first.study, storage=store)
        kept = {t.number: t.value for t in study.trials[:3]}
    assert kept == {t.number: t.value for t in first.trials}  # nothing lost or redone


def test_a_time_budget_stops_the_study(search_workspace: Workspace) -> None:
    with LocalExecutor(1) as executor:
        # a first trial starts the worker process, so the budget measures trials only
        tune(search_workspace, "houses", algorithm="linear", trials=1, folds=2, executor=executor)
        started = time.monotonic()
        result = tune(
            search_workspace,
            "houses",
            algorithm="linear",
            trials=None,
            budget_seconds=8,
            folds=2,
            executor=executor,
        )
        elapsed = time.monotonic() - started
    assert result.stopped == "time" and result.finished >= 1
    assert result.metric == "rmse" and not result.greater_is_better
    assert elapsed < 8 + 20  # one fold past the deadline at most (and a loaded machine)


def test_stop_at_ends_the_study_by_its_best_trials_fit_time(
    search_workspace: Workspace,
) -> None:
    """AutoML's hook: the end moves as the best trial's fit time becomes known."""
    seen: list[float | None] = []

    def stop_at(best_fit_seconds: float | None) -> float:
        seen.append(best_fit_seconds)
        return 0.0 if best_fit_seconds is not None else float("inf")  # now, or never

    with LocalExecutor(1) as executor:
        result = tune(
            search_workspace,
            "houses",
            algorithm="linear",
            trials=None,
            budget_seconds=120,
            folds=2,
            executor=executor,
            stop_at=stop_at,
        )
    assert result.stopped == "time" and len(result.trials) == 1  # stopped after the first
    (trial,) = result.trials
    assert trial.fit_seconds is not None and trial.fit_seconds > 0
    assert seen == [None, trial.fit_seconds] and result.best_fit_seconds == trial.fit_seconds
    assert result.to_dict()["best_fit_seconds"] == trial.fit_seconds


@pytest.mark.parametrize("sampler", ["grid", "cmaes"])
def test_every_sampler_runs(search_workspace: Workspace, sampler: str) -> None:
    with LocalExecutor(1) as executor:
        result = tune(
            search_workspace,
            "churn",
            algorithm="decision_tree",
            trials=2,
            folds=2,
            sampler=sampler,
            executor=executor,
        )
    assert result.finished == 2 and result.best_value is not None


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"trials": 0}, InvalidInputError, "at least one trial"),
        ({"trials": None}, InvalidInputError, "give a budget"),
        ({"sampler": "annealing"}, InvalidInputError, "unknown sampler 'annealing'"),
        ({"algorithm": "naive_bayes", "dataset": "houses"}, InvalidInputError, "does not support"),
        ({"dataset": "nope"}, NotFoundError, "nope"),
    ],
)
def test_bad_input_names_the_problem(
    search_workspace: Workspace, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    arguments: dict[str, object] = {"dataset": "churn", "algorithm": "linear", **kwargs}
    dataset = str(arguments.pop("dataset"))
    with pytest.raises(error, match=message):
        tune(search_workspace, dataset, **arguments)  # type: ignore[arg-type]


def test_resume_of_an_unknown_study_says_so(search_workspace: Workspace) -> None:
    with pytest.raises(NotFoundError, match="no tuning study 'f00d'"):
        resume(search_workspace, "f00d", trials=3)


def test_median_pruning_stops_poor_trials_after_a_fold(search_workspace: Workspace) -> None:
    with LocalExecutor(1) as executor:
        result = tune(
            search_workspace,
            "churn",
            algorithm="decision_tree",
            trials=12,
            folds=3,
            sampler="random",
            pruner="median",
            seed=3,
            executor=executor,
        )
    pruned = [t for t in result.trials if t.state == "pruned"]
    assert result.pruned == len(pruned) >= 1
    assert result.finished + result.pruned + result.failed == 12
    with storage(search_workspace) as store:
        trials = optuna.load_study(study_name=result.study, storage=store).trials
    for trial in trials:
        if trial.state.name == "PRUNED":  # stopped before its last fold
            assert max(trial.intermediate_values) < 2
        else:
            assert sorted(trial.intermediate_values) == [0, 1, 2]
    with pytest.raises(InvalidInputError, match="unknown pruner 'never'"):
        tune(search_workspace, "churn", algorithm="linear", trials=1, pruner="never")


def test_warm_start_tries_the_given_or_earlier_best_parameters_first(
    search_workspace: Workspace,
) -> None:
    given = {"max_depth": 3, "min_samples_leaf": 7}
    with LocalExecutor(1) as executor:
        first = tune(
            search_workspace,
            "churn",
            algorithm="decision_tree",
            trials=2,
            folds=2,
            warm_start=[given],
            executor=executor,
        )
        assert first.trials[0].params == given
        second = tune(
            search_workspace,
            "churn",
            algorithm="decision_tree",
            trials=1,
            folds=2,
            warm_start=first.study,
            executor=executor,
        )
    assert second.trials[0].params == first.best_params
    assert second.trials[0].value == first.best_value  # same folds, same seed
    with pytest.raises(InvalidInputError, match="tuned decision_tree, not linear"):
        tune(search_workspace, "churn", algorithm="linear", trials=1, warm_start=first.study)
