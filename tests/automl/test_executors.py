"""A study gives the same trials wherever its work items run."""

from __future__ import annotations

import pytest

from modelyard.automl import tune
from modelyard.execution import Executor, LocalExecutor, RayExecutor
from modelyard.workspace import Workspace
from tests.ray_fixture import ray_session

__all__ = ["ray_session"]


def _study(workspace: Workspace, executor: Executor) -> list[float | None]:
    result = tune(
        workspace,
        "churn",
        algorithm="decision_tree",
        trials=4,
        folds=2,
        seed=7,
        executor=executor,
    )
    assert result.finished == 4
    return [result.best_value, *(t.value for t in result.trials)]


@pytest.mark.slow
def test_local_and_ray_give_the_same_best_score(
    search_workspace: Workspace, ray_session: object
) -> None:
    with LocalExecutor(2) as local:
        on_local = _study(search_workspace, local)
    with RayExecutor() as ray:
        assert ray.workers == 2  # two trials per batch on both
        on_ray = _study(search_workspace, ray)
    assert on_local == on_ray
