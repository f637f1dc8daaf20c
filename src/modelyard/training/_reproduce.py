"""``runs reproduce``: train again from a run's recorded spec and compare the metrics."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from modelyard.errors import InvalidInputError, NotFoundError
from modelyard.training._job import train
from modelyard.training._progress import Progress
from modelyard.training._spec import TrainingSpec

if TYPE_CHECKING:
    from modelyard.workspace import Workspace

__all__ = ["ReproduceResult", "reproduce"]


@dataclass(frozen=True)
class ReproduceResult:
    """The original run, the new one, and every metric of both."""

    original_run: str
    new_run: str
    metrics: list[dict[str, Any]]

    @property
    def identical(self) -> bool:
        """Whether every metric matched (to 1e-12 relative)."""
        return all(row["match"] for row in self.metrics)


def reproduce(
    workspace: Workspace, run_id: str, progress: Progress | None = None
) -> ReproduceResult:
    """Re-run the training run ``run_id`` from its lineage, without registering.

    Raises:
        NotFoundError: no such run.
        InvalidInputError: the run is not a training run.
    """
    original = workspace.runs.get(run_id)
    try:
        recorded = json.loads(workspace.runs.artifact_bytes(original.id, "training_spec.json"))
    except NotFoundError:
        raise InvalidInputError(
            f"run {original.id[:8]} is not a training run (it has no training_spec.json)"
        ) from None
    dataset = next((i["ref"] for i in original.inputs if i.get("kind") == "dataset"), None)
    spec = TrainingSpec.from_dict(recorded)
    spec = replace(spec, dataset=dataset or spec.dataset, register=False)
    result = train(workspace, spec, progress)
    workspace.runs.set_tags(result.run_id, {"reproduces": original.id})
    rows = []
    new_metrics = workspace.runs.get(result.run_id).metrics  # as logged, baselines too
    for key in sorted(set(original.metrics) | set(new_metrics)):
        if key == "fit_seconds" or key.startswith("rows_"):
            continue
        before, after = original.metrics.get(key), new_metrics.get(key)
        match = (
            before is not None
            and after is not None
            and math.isclose(before, after, rel_tol=1e-12, abs_tol=1e-12)
        )
        rows.append({"metric": key, "original": before, "reproduced": after, "match": match})
    return ReproduceResult(original.id, result.run_id, rows)
