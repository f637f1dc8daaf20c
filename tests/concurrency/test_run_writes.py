"""Threads writing to one run at the same moment: nothing lost, no raw database error.

A training job logs from several threads (its evaluation beside its fit); each
write that reads before it writes (a parameter set once, the list of inputs, a tag
or an artifact replaced) must see the others' committed writes.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from modelyard.workspace import Workspace

_TIMEOUT = 120


def test_threads_writing_to_one_run(any_workspace: Workspace) -> None:
    count = 12
    barrier = threading.Barrier(count)
    with any_workspace.start_run("shared") as run:

        def write(index: int) -> None:
            barrier.wait(_TIMEOUT)
            run.log_params({"alpha": 0.5, f"own{index}": index})
            run.log_input("dataset", f"part:{index + 1}")
            run.set_tag("writer", str(index))
            run.log_bytes(f"from {index}".encode(), "last.txt")

        with ThreadPoolExecutor(count) as pool:
            list(pool.map(write, range(count)))

    info = any_workspace.runs.get(run.id)
    assert info.params == {"alpha": "0.5", **{f"own{i}": str(i) for i in range(count)}}
    assert sorted(i["ref"] for i in info.inputs) == sorted(f"part:{i + 1}" for i in range(count))
    assert info.tags["writer"] in {str(i) for i in range(count)}
    assert [a.name for a in info.artifacts] == ["last.txt"]
    assert any_workspace.runs.artifact_bytes(run.id, "last.txt").startswith(b"from ")
