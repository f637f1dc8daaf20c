"""``modelyard ui``: the web dashboard of the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelyard.cli._context import state
from modelyard.cli._render import console

if TYPE_CHECKING:
    from modelyard.workspace import Workspace

__all__ = ["register", "serve_dashboard"]


def register(app: typer.Typer) -> None:
    """Add ``ui`` to the root app."""
    app.command("ui")(ui)


def ui(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Interface to listen on (loopback: only this machine).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port.")] = 8090,
) -> None:
    """Serve the web dashboard (runs, models, datasets, endpoints, jobs) until Ctrl-C."""
    _serve(state(ctx).workspace(), host, port)


def serve_dashboard(root: Path, host: str = "127.0.0.1", port: int = 8090) -> None:
    """Open the workspace at ``root`` and serve its dashboard (``modelyard demo --ui``)."""
    from modelyard.workspace import Workspace

    with Workspace.open(root) as workspace:
        _serve(workspace, host, port)


def _serve(workspace: Workspace, host: str, port: int) -> None:
    """Print the dashboard's URL, then serve it until Ctrl-C."""
    from modelyard._imports import require

    require("the dashboard", "jinja2", "uvicorn", "starlette", "plotly")
    from modelyard.ui import serve_ui

    def listening(url: str) -> None:
        console.print(
            f"dashboard for [bold]{workspace.settings.workspace}[/] on {url}/ (Ctrl-C to stop)",
            highlight=False,
        )

    serve_ui(workspace, host=host, port=port, on_listen=listening)
