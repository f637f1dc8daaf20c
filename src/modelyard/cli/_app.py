"""The root command, global options, and the error boundary."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

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


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run a command and turn errors into one line and an exit code."""
    _leave(_run(argv))


def _run(argv: list[str] | None) -> int | str | None:
    """Run one command; its exit status (as ``sys.exit`` takes it)."""
    from modelyard.errors import ModelyardError

    try:
        # Typer handles usage errors and --help itself (exit 2 / 0); anything a
        # command raises comes out here.
        app(args=argv, prog_name="modelyard")
    except SystemExit as exc:
        return exc.code
    except KeyboardInterrupt:
        err_console.print("aborted")
        return 130
    except ModelyardError as exc:
        err_console.print(
            f"[bold red]error:[/] {_one_line(exc.message)}", highlight=False, soft_wrap=True
        )
        return exc.exit_code
    except Exception as exc:  # a bug: still one line, never a traceback wall
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {_one_line(str(exc))}",
            highlight=False,
            soft_wrap=True,
        )
        return 1
    return 0


def _leave(status: int | str | None) -> NoReturn:
    """End the process with ``status``, skipping the interpreter's teardown of modules.

    Python's exit frees every module and object one by one: after a batch job (about
    1,200 modules: SQLAlchemy, pandas, pyarrow) that took 0.3-0.4 s of a command whose
    work was done. What exit does that matters still happens, in the same order:
    threads are joined (executors told to stop first), ``atexit`` functions run
    (temporary directories, logging), and the standard streams are flushed; only
    the freeing is skipped (the operating system does it at once). Where this
    Python lacks the two hooks, the process exits as usual.
    """
    import atexit
    import threading

    shutdown = getattr(threading, "_shutdown", None)
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if shutdown is None or run_exitfuncs is None:
        sys.exit(status)
    if status is None:
        code = 0
    elif isinstance(status, int):
        code = status
    else:  # sys.exit("message"): the message on stderr, status 1
        print(status, file=sys.stderr)
        code = 1
    shutdown()
    run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            code = code or 120
    os._exit(code)


def _one_line(text: str) -> str:
    return " ".join(text.split())
