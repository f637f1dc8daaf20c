"""A process killed with SIGKILL, as ``kill -9`` or the out-of-memory killer would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def run_then_kill(script: str, *args: str) -> str:
    """Run ``script`` (Python source) until it prints a line, then SIGKILL it.

    The script says what it made (an id) on its first line, then blocks reading
    stdin, so it is certainly alive while it holds what it made and cannot clean up
    when killed. Returns that line; the process is reaped (its pid is free) on return.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        line = process.stdout.readline().strip()
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        process.stdin.close()
        process.stdout.close()
    assert line, "the script ended without saying what it made"
    return line
