"""``modelyard ui``: the web dashboard of the workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from modelyard.cli._context import state
from modelyard.cli._render import console

__all__ = ["register"]


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
    from modelyard._imports import require

    require("the dashboard", "jinja2", "uvicorn", "starlette", "plotly")
    from modelyard.ui import MOUNT_PATH, serve_ui

    workspace = state(ctx).workspace()
    console.print(
        f"dashboard for [bold]{workspace.settings.workspace}[/] on "
        f"http://{host}:{port}{MOUNT_PATH}/ (Ctrl-C to stop)",
        highlight=False,
    )
    serve_ui(workspace, host=host, port=port)
