"""Moving one alias from many threads at once: no raw database error, and the
history is one chain (each move starts where the previous one left the alias)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path

from modelyard.workspace import Workspace
from tests._packages import register_stand_in, stand_in_package

_TIMEOUT = 120


def test_concurrent_moves_of_one_alias(any_workspace: Workspace, tmp_path: Path) -> None:
    count = 8
    for index in range(count):
        package = stand_in_package(tmp_path / f"p{index}", {"index": index})
        register_stand_in(any_workspace.models, "m", package)
    barrier = threading.Barrier(count)

    def move(index: int) -> None:
        barrier.wait(_TIMEOUT)
        any_workspace.models.set_alias(f"m:{index + 1}", "production", actor=f"a{index}")

    with ThreadPoolExecutor(count) as pool:
        list(pool.map(move, range(count)))

    moves = [e.details for e in any_workspace.models.history("m") if e.kind == "alias"]
    assert len(moves) == count
    assert moves[0]["from"] is None
    assert all(later["from"] == earlier["to"] for earlier, later in pairwise(moves))
    assert sorted(m["to"] for m in moves) == list(range(1, count + 1))
    assert any_workspace.models.get("m:production").version == moves[-1]["to"]
