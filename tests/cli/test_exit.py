"""How the ``modelyard`` process ends: the command's status, with what Python's own exit
does first (threads joined, ``atexit`` functions run, output flushed), though the
modules' teardown is skipped (``modelyard.cli._app._leave``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from modelyard.workspace import Workspace

# A program that gives the process a non-daemon thread and an atexit function, writes
# unflushed output, then runs the CLI's entry point with the arguments it is given.
PROGRAM = """
import atexit, sys, threading

def work():
    threading.main_thread().join()  # returns once the process has begun to exit
    sys.stdout.write("thread finished\\n")

atexit.register(lambda: sys.stdout.write("atexit ran\\n"))
threading.Thread(target=work).start()
sys.stdout.write("unflushed before the command\\n")
from modelyard.cli import main
main(sys.argv[1:])
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
