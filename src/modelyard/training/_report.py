"""A model version's evaluation report, as a file a browser opens.

The training job stores the report as an artifact of its run, and artifacts are
content-addressed blobs without a file name or extension: this finds the run of
a model version and writes its report out as ``.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from modelyard.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from modelyard.workspace import Workspace

__all__ = ["REPORT_ARTIFACT", "export_report"]

REPORT_ARTIFACT = "evaluation/report.html"
"""The run artifact a training job stores its evaluation report as."""


def export_report(workspace: Workspace, ref: str, output: Path | None = None) -> Path:
    """Write the evaluation report of model version ``ref`` to an HTML file.

    Args:
        workspace: the workspace holding the model.
        ref: ``name``, ``name:version`` or ``name:alias``.
        output: the file to write (its folder must exist); default
            ``<name>-<version>-report.html`` in the current directory.

    Returns:
        The path written.

    Raises:
        NotFoundError: no such model version, or it has no stored report (a
            version registered without a training run).
        InvalidInputError: ``output`` is a directory or its folder does not exist.
    """
    version = workspace.models.get(ref)
    if version.run_id is None:
        raise NotFoundError(f"model {version.ref} was not trained by a run: it has no report")
    try:
        html = workspace.runs.artifact_bytes(version.run_id, REPORT_ARTIFACT)
    except NotFoundError:
        raise NotFoundError(
            f"model {version.ref}'s run {version.run_id[:8]} has no evaluation report"
        ) from None
    path = output if output is not None else Path(f"{version.name}-{version.version}-report.html")
    if path.is_dir():
        raise InvalidInputError(f"{path} is a directory: name the report's file")
    if not path.parent.is_dir():
        raise InvalidInputError(f"folder {path.parent} does not exist")
    scratch = path.with_name(f".{path.name}.partial")
    scratch.write_bytes(html)
    scratch.replace(path)  # a reader never sees half a report
    return path
