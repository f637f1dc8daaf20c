"""What every command shares: the chosen workspace, opened on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from modelyard.workspace import Workspace

__all__ = ["CliState", "YesOption", "confirm", "state"]


@dataclass
class CliState:
    """Global options, and the workspace once a command asks for it."""

    workspace_path: Path | None = None
    json_output: bool = False
    debug: bool = False
    _workspace: Workspace | None = field(default=None, repr=False)

    def workspace(self) -> Workspace:
        """The workspace named by ``--workspace`` (or found from the current directory)."""
        if self._workspace is None:
            from modelyard.workspace import Workspace

            self._workspace = Workspace.open(self.workspace_path)
        return self._workspace

    def close(self) -> None:
        """Release the workspace's connections."""
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None


def state(ctx: typer.Context) -> CliState:
    """The shared state of the running command."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Go ahead without asking for confirmation.")
]


def confirm(question: str, yes: bool) -> None:
    """Ask ``question`` before a destructive command, unless ``--yes`` was given.

    Without a terminal there is nobody to answer: rather than wait or guess, the
    command stops with one line naming ``--yes`` (exit 2) and changes nothing.
    A "no" at the prompt exits 1, also changing nothing.
    """
    import sys

    from modelyard.errors import InvalidInputError

    if yes:
        return
    if not sys.stdin.isatty():
        raise InvalidInputError(f"{question} Pass --yes to confirm without a terminal.")
    if not typer.confirm(question, default=False):
        raise typer.Exit(1)
