"""Work items for the executor conformance tests (module-level: workers import them)."""

from __future__ import annotations

import os
import time
from functools import cache
from pathlib import Path


def square(x: int) -> int:
    return x * x


def gated_identity(x: int, gate: str | None) -> int:
    """Return ``x`` once the file ``gate`` exists (at once without a gate)."""
    deadline = time.monotonic() + 60
    while gate is not None and not Path(gate).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(gate)
        time.sleep(0.01)
    return x


def fail(message: str) -> int:
    raise ValueError(message)


@cache
def _expensive_state() -> dict[str, int]:
    return {"pid": os.getpid(), "built": time.perf_counter_ns()}


def cached_state(_: int) -> tuple[int, int]:
    """(pid, build stamp) of this worker's cached state: equal on every call in one process."""
    state = _expensive_state()
    return state["pid"], state["built"]


_STATE: dict[str, object] = {}


def remember(value: object) -> None:
    """An initializer: per-process state set once as the worker starts."""
    _STATE["value"] = value


def recall(_: int) -> object:
    return _STATE.get("value")


def remember_cores() -> None:
    """An initializer: the cores the worker had while it started."""
    _STATE["cores"] = tuple(sorted(os.sched_getaffinity(0)))


def cores(_: int) -> tuple[object, tuple[int, ...]]:
    """(cores while starting, cores now) of this worker."""
    return _STATE.get("cores"), tuple(sorted(os.sched_getaffinity(0)))


def wait_for(gate: str) -> None:
    """An initializer that returns once the file ``gate`` exists."""
    gated_identity(0, gate)
