"""A batch job's driver reduced to its workers, run as a script by test_forkserver.py.

It starts a job's workers (:class:`~modelyard.batch._workers.JobWorkers`), prints
``{"driver"}``, then for each line ``submit`` on its standard input prints what each
worker reports (:func:`report`) with the fork server's pid, and shuts the workers
down at the end of its input.

The fork server imports this script first (as ``__mp_main__``, as it would any
script's main module): there, when ``MODELYARD_TEST_GATE`` names a file, it waits
for that file, so a test can hold the server in the middle of its imports.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

TIMEOUT = 120  # seconds any wait here lasts at most


def _wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.01)


if __name__ == "__mp_main__" and os.environ.get("MODELYARD_TEST_GATE"):
    _gate = Path(os.environ["MODELYARD_TEST_GATE"])
    _wait_until(_gate.exists, f"gate {_gate}")


def report(folder: str, workers: int) -> dict[str, object]:
    """A worker's pid and parent, once ``workers`` distinct workers reported (each
    waits for the others, so every worker answers once)."""
    Path(folder, str(os.getpid())).touch()
    _wait_until(lambda: len(list(Path(folder).iterdir())) >= workers, "every worker")
    return {
        "pid": os.getpid(),
        "parent": os.getppid(),
        "preloaded": "modelyard.batch._preload" in sys.modules,
    }


def main() -> None:
    from modelyard.batch._workers import JobWorkers

    workers = JobWorkers(2, ())
    print(json.dumps({"driver": os.getpid()}), flush=True)
    for line in sys.stdin:
        if line.strip() == "submit":
            folder = Path(sys.argv[1], f"round-{time.monotonic_ns()}")
            folder.mkdir()
            futures = [workers.submit(report, str(folder), 2) for _ in range(2)]
            reports = [{**f.result(), "server": workers.server_pid} for f in futures]
            print(json.dumps(reports), flush=True)
    workers.shutdown()


if __name__ == "__main__":
    main()
