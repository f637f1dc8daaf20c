"""The root command, global options, and the error boundary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from modelyard.cli import (
    _batch,
    _data,
    _demo,
    _endpoints,
    _models,
    _runs,
    _serve,
    _train,
    _workspace,
)
from modelyard.cli._context import state
from modelyard.cli._render import err_console

__all__ = ["app", "main"]

app = typer.Typer(
    name="modelyard",
    help="The machine-learning lifecycle on your own machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Workspace directory (default: $MODELYARD_WORKSPACE, or the nearest "
            "workspace at or above the current directory).",
            show_default=False,
        ),
    ] = None,
) -> None:
    cli_state = state(ctx)
    cli_state.workspace_path = workspace
    ctx.call_on_close(cli_state.close)


_workspace.register(app)
app.add_typer(_data.app, name="data")
app.add_typer(_runs.app, name="runs")
app.add_typer(_models.app, name="model")
app.add_typer(_batch.app, name="batch")
_train.register(app, _runs.app)
_demo.register(app)
_serve.register(app)
app.add_typer(_endpoints.app, name="endpoint")
app.add_typer(_endpoints.token_app, name="token")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run a command and turn errors into one line and an exit code."""
    from modelyard.errors import ModelyardError

    try:
        # Typer handles usage errors and --help itself (exit 2 / 0); anything a
        # command raises comes out here.
        app(args=argv, prog_name="modelyard")
    except KeyboardInterrupt:
        err_console.print("aborted")
        sys.exit(130)
    except ModelyardError as exc:
        err_console.print(
            f"[bold red]error:[/] {_one_line(exc.message)}", highlight=False, soft_wrap=True
        )
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug: still one line, never a traceback wall
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {_one_line(str(exc))}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)


def _one_line(text: str) -> str:
    return " ".join(text.split())
