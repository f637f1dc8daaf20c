"""How a search records itself: one parent run, a child run per candidate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelyard.automl._leaderboard import Entry
    from modelyard.automl._problem import Problem
    from modelyard.workspace import Workspace

__all__ = ["PARENT_TAG", "RECIPE_ARTIFACT", "log_recipe", "record_entry"]

PARENT_TAG = "parent_run"
"""The tag naming a child run's parent (the search's run)."""


def record_entry(
    workspace: Workspace,
    experiment: str,
    parent: str,
    entry: Entry,
    kind: str,
    extra_tags: dict[str, Any] | None = None,
) -> str:
    """Write ``entry`` as a finished (or failed, with its reasons) child run; its id."""
    from modelyard.tracking import RunStatus

    tags = {PARENT_TAG: parent, "automl": kind, "algorithm": entry.algorithm}
    tags.update({k: str(v) for k, v in (extra_tags or {}).items()})
    run = workspace.start_run(experiment, name=f"{kind}-{entry.algorithm}", tags=tags)
    run.log_params({"algorithm": entry.algorithm, "folds": entry.folds, **entry.params})
    summary = entry.summary()
    if summary:
        run.log_metrics(summary)
    for fold, scores in sorted(entry.scores.items()):
        run.log_metrics({f"fold_{k}": v for k, v in scores.items()}, step=fold)
    if entry.errors:
        reasons = "; ".join(f"fold {k}: {v}" for k, v in sorted(entry.errors.items()))
        run.end(RunStatus.FAILED, reasons)
    else:
        run.end()
    entry.run_id = run.id
    return run.id


RECIPE_ARTIFACT = "recipe.json"
"""The search's feature recipe, as the user wrote it, beside its parent run."""


def log_recipe(run: Any, problem: Problem) -> None:
    """The search's feature recipe (when it has one) as an artifact of its parent run,
    so the run says which features its scores were measured on."""
    if problem.recipe is not None:
        run.log_dict(problem.recipe.to_dict(), RECIPE_ARTIFACT)
