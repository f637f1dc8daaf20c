"""How a command ends: its status, Python's own exit (threads joined, ``atexit`` run,
output flushed), one readable line for an error and the traceback on request, and the
whole command line callable in-process (``main(argv)`` returns the status)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from modelyard.cli import main
from modelyard.workspace import Workspace
from tests.conftest import Cli

SRC = Path(__file__).resolve().parents[2] / "src"

# A program that gives the process a non-daemon thread and an atexit function, writes
# unflushed output, then runs the command line with the arguments it is given, as the
# ``modelyard`` script does.
PROGRAM = """
import atexit, sys, threading

def work():
    threading.main_thread().join()  # returns once the process has begun to exit
    sys.stdout.write("thread finished\\n")

atexit.register(lambda: sys.stdout.write("atexit ran\\n"))
threading.Thread(target=work).start()
sys.stdout.write("unflushed before the command\\n")
from modelyard.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["batch", "list", "--json"], 0),  # success
        (["batch", "show", "no-such-job"], 3),  # NotFoundError's exit code
        (["batch", "no-such-command"], 2),  # a usage error (Typer's status)
    ],
)
def test_the_process_ends_with_the_commands_status_after_what_exit_must_do(
    workspace: Workspace, args: list[str], status: int
) -> None:
    done = _run("-w", str(workspace.settings.workspace), *args)
    assert done.returncode == status, done.stderr
    lines = done.stdout.splitlines()
    assert "unflushed before the command" in lines
    assert "thread finished" in lines  # joined, not cut off
    assert lines[-1] == "atexit ran"  # after the thread, as Python's own exit orders it


def test_main_runs_commands_in_process_and_returns_their_status(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(workspace.settings.workspace)
    assert main(["-w", root, "runs", "list", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert main(["-w", root, "data", "show", "nope:1"]) == 3  # NotFoundError
    assert "error: " in capsys.readouterr().err
    assert main(["-w", root, "no-such-command"]) == 2  # usage error
    # the process is still here and the workspace still usable
    assert main(["-w", root, "info", "--json"]) == 0
    assert root in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"modelyard {version('modelyard')}\n"


def _broken_workspace(tmp_path: Path) -> Path:
    """A workspace whose database file is not a database: an error modelyard does not
    anticipate, so it reaches the command line's catch-all."""
    root = tmp_path / "broken"
    Workspace.init(root).close()
    (root / ".modelyard" / "modelyard.db").write_bytes(b"not a database " * 100)
    for leftover in (root / ".modelyard").glob("modelyard.db-*"):
        leftover.unlink()
    return root


def test_an_unexpected_error_is_one_line_without_debug(tmp_path: Path) -> None:
    result = Cli(_broken_workspace(tmp_path))("data", "list", check=False)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("internal error: DatabaseError:")
    assert "run with --debug for the traceback" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("how", ["--debug", "MODELYARD_DEBUG"])
def test_debug_shows_the_full_traceback(tmp_path: Path, how: str) -> None:
    root = _broken_workspace(tmp_path)
    flag = ["--debug"] if how == "--debug" else []
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    if how == "MODELYARD_DEBUG":
        env["MODELYARD_DEBUG"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "modelyard", *flag, "-w", str(root), "data", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Traceback (most recent call last):")
    assert re.search(r'File ".*modelyard.*\.py", line \d+', done.stderr)
    assert done.stderr.splitlines()[-1].startswith("internal error: DatabaseError:")


def test_error_text_is_printed_as_written_not_as_markup(workspace: Workspace, cli: Cli) -> None:
    missing = cli("data", "ingest", "nope[bold].csv", "--name", "x", check=False)
    assert missing.exit_code == 3
    assert "nope[bold].csv" in missing.stderr
    root = workspace.settings.workspace
    hint = Cli(root)(
        "init", str(root / "pg"), "--database-url", "postgresql+nodriver://u@h/db", check=False
    )
    assert hint.exit_code == 6
    assert "modelyard[postgres]" in hint.stderr


def test_table_cells_are_data_not_markup(workspace: Workspace, cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "odd[red].csv"
    source.write_text("name,x\n[bold]fat[/bold],1\nplain,2\n")
    cli("data", "ingest", str(source), "--name", "odd", "--no-split")
    shown = cli("data", "head", "odd").stdout
    assert "[bold]fat[/bold]" in shown
    assert "odd[red].csv" in cli("data", "list").stdout


def test_no_exit_hooks_or_hard_exits_in_the_package() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{number}"
        for path in SRC.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"threading\._shutdown|atexit\._run_exitfuncs|os\._exit\b", line)
    ]
    assert offenders == []
