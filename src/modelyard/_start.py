"""``modelyard.start_run``: a run in the workspace of the current directory."""

from __future__ import annotations

from pathlib import Path

from modelyard.tracking import Run
from modelyard.workspace import Workspace

__all__ = ["start_run"]


def start_run(
    experiment: str = "default",
    name: str | None = None,
    *,
    workspace: Workspace | str | Path | None = None,
    tags: dict[str, str] | None = None,
) -> Run:
    """Open a run in ``workspace`` (by default the workspace of the current directory).

    Use it as a context manager, so the run is closed (finished, or failed with the
    error) whatever happens::

        with modelyard.start_run(experiment="churn") as run:
            run.log_metric("loss", 0.3)
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    return ws.start_run(experiment, name, tags)
