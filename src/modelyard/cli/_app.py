"""The root command, global options, and the error boundary.

:func:`main` runs one command and returns its exit status, so the command line can
be called in-process (tests, notebooks, other programs) as well as from the
``modelyard`` script, which passes the status to ``sys.exit``.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from modelyard import __version__
from modelyard.cli import (
    _automl,
    _batch,
    _data,
    _demo,
    _endpoints,
    _features,
    _models,
    _monitor,
    _pipelines,
    _runs,
    _serve,
    _train,
    _ui,
    _workspace,
)
from modelyard.cli._context import CliState, state
from modelyard.cli._render import err_console

__all__ = ["app", "main"]

app = typer.Typer(
    name="modelyard",
    help="The machine-learning lifecycle on your own machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"modelyard {__version__}")
        raise typer.Exit()


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
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Show the full traceback of an error (also: MODELYARD_DEBUG=1).",
        ),
    ] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    cli_state = state(ctx)
    cli_state.workspace_path = workspace
    cli_state.debug = debug
    ctx.call_on_close(cli_state.close)


_workspace.register(app)
app.add_typer(_data.app, name="data")
app.add_typer(_runs.app, name="runs")
app.add_typer(_models.app, name="model")
app.add_typer(_batch.app, name="batch")
app.add_typer(_features.app, name="features")
_train.register(app, _runs.app)
_demo.register(app)
_serve.register(app)
_ui.register(app)
_automl.register(app)
app.add_typer(_endpoints.app, name="endpoint")
app.add_typer(_endpoints.token_app, name="token")
app.add_typer(_pipelines.app, name="pipeline")
app.add_typer(_pipelines.loop_app, name="loop")
app.add_typer(_monitor.app, name="monitor")
app.add_typer(_monitor.labels_app, name="labels")
_monitor.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run one command (``argv``, default ``sys.argv[1:]``); its exit status.

    Errors become one line on stderr and the error's exit code; ``--debug`` (or
    ``MODELYARD_DEBUG=1``) adds the full traceback.
    """
    return _exit_status(_run(argv, CliState()))


def _run(argv: list[str] | None, cli_state: CliState) -> int | str | None:
    """Run one command; its status as ``sys.exit`` takes it."""
    from modelyard._imports import missing_dependency
    from modelyard.errors import ModelyardError

    try:
        # Typer handles usage errors and --help itself (exit 2 / 0); anything a
        # command raises comes out here.
        app(args=argv, prog_name="modelyard", obj=cli_state)
    except SystemExit as exc:
        return exc.code
    except KeyboardInterrupt:
        err_console.print("aborted")
        return 130
    except ModelyardError as exc:
        _report(exc, "error: ", exc.message, _debug(cli_state))
        return exc.exit_code
    except ImportError as exc:  # an extra's module, where no one said which extra
        missing = missing_dependency(exc, "this command")
        if missing is None:
            return _internal_error(exc, cli_state)
        _report(exc, "error: ", missing.message, _debug(cli_state))
        return missing.exit_code
    except Exception as exc:  # a bug: one line, the traceback on request
        return _internal_error(exc, cli_state)
    return 0


def _internal_error(exc: Exception, cli_state: CliState) -> int:
    debug = _debug(cli_state)
    hint = "" if debug else " (run with --debug for the traceback)"
    _report(exc, "internal error: ", f"{type(exc).__name__}: {exc}{hint}", debug)
    return 1


def _debug(cli_state: CliState) -> bool:
    """``--debug``, or ``MODELYARD_DEBUG`` set: read only once an error needs it, as
    the settings module (pydantic) is too heavy for every start."""
    if cli_state.debug:
        return True
    from modelyard.settings import environment_flag

    value = (environment_flag("DEBUG") or "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def _report(exc: BaseException, label: str, message: str, debug: bool) -> None:
    """One line on stderr, taken literally: a file named ``a[b].csv`` or the hint
    ``modelyard[postgres]`` is printed as written, never read as Rich markup."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    line = Text.assemble((label, "bold red"), " ".join(message.split()))
    err_console.print(line, highlight=False, soft_wrap=True)


def _exit_status(status: int | str | None) -> int:
    """``sys.exit``'s reading of ``status``: ``None`` is 0, a message is printed and 1."""
    if status is None:
        return 0
    if isinstance(status, int):
        return status
    print(status, file=sys.stderr)
    return 1
