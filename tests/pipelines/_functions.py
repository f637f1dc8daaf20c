"""Module-level step functions: importable by name, so they run on the Executor."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def add(a: float, b: float) -> float:
    return a + b


def describe(dataset: dict[str, Any]) -> dict[str, Any]:
    """What a dataset input looks like inside a step."""
    return {"ref": dataset["ref"], "name": dataset["ref"].split(":")[0]}


def rendezvous(folder: str, me: str, other: str) -> str:
    """Wait (up to a minute) until step ``other`` has started too.

    Run one after the other, the first would wait the whole minute for a partner
    that has not started; the test then sees the two intervals not overlapping.
    """
    Path(folder, me).touch()
    deadline = time.monotonic() + 60
    while not Path(folder, other).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return me


def explode(value: Any) -> None:
    raise ValueError(f"cannot handle {value!r}")


def work(seconds: float, index: int) -> int:
    """Busy for ``seconds`` of wall-clock time (the benchmark's unit of work)."""
    time.sleep(seconds)
    return index


def needs_file(path: str, value: float) -> float:
    """Fails until ``path`` exists: a step whose cause of failure can be fixed."""
    if not Path(path).exists():
        raise FileNotFoundError(f"{path} is not there yet")
    return value * 10


def fails_first(folder: str, times: int) -> int:
    """Raises on its first ``times`` calls (counted in files in ``folder``), then succeeds."""
    calls = len(list(Path(folder).iterdir()))
    Path(folder, f"call{calls}").touch()
    if calls < times:
        raise ConnectionError(f"call {calls + 1} failed")
    return calls + 1


def mark(folder: str, name: str, seconds: float, previous: Any = None) -> int:
    """Leave one file per execution of step ``name`` in ``folder``, then work ``seconds``."""
    import os

    Path(folder).mkdir(parents=True, exist_ok=True)
    Path(folder, f"{name}.{os.getpid()}.{time.time_ns()}").touch()
    time.sleep(seconds)
    return int(previous or 0) + 1
