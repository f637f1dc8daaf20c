"""Pipeline scheduling overhead and cached runs, local executor.

Prints one JSON line. A pipeline of 20 function steps, each doing 0.2 s of work
and each taking the previous step's output (a chain: every step's scheduling
overhead adds to the total), run twice on a fresh SQLite workspace:

- cold: every step runs on the local Executor (its workers started beforehand,
  their start-up reported apart); ``cold_overhead_ratio`` is the run's wall time
  over the steps' own recorded time (goal: 1.15 or less);
- cached: the same run again, every step a cache hit (goal: under 1 s).

Usage: python benchmarks/pipeline.py [--steps 20] [--seconds 0.2]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from pathlib import Path


def work(seconds: float, previous: int) -> int:
    """One step's work: ``seconds`` of wall-clock time."""
    time.sleep(seconds)
    return previous + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=0.2)
    options = parser.parse_args()

    from modelyard.execution import LocalExecutor
    from modelyard.pipelines import Pipeline, PipelineStore, steps
    from modelyard.workspace import Workspace

    # the step function by its module's own name, so the workers can import it
    this = importlib.import_module(Path(__file__).stem)
    with tempfile.TemporaryDirectory() as folder, Workspace.init(Path(folder) / "ws") as ws:
        p = Pipeline("bench", params={"seconds": options.seconds})
        previous: object = 0
        for index in range(options.steps):
            previous = p.add(
                steps.Function(this.work, p.param("seconds"), previous, name=f"step{index:02d}")
            )
        store = PipelineStore(ws)
        started = time.perf_counter()
        executor = LocalExecutor(1)
        executor.map(this.work, [(0.0, 0)])  # its worker is up, and has imported this module
        startup = time.perf_counter() - started
        with executor:
            started = time.perf_counter()
            cold = store.run(p, executor=executor)
            cold_seconds = time.perf_counter() - started
            started = time.perf_counter()
            cached = store.run(p, executor=executor)
            cached_seconds = time.perf_counter() - started
    own = sum(step.seconds or 0.0 for step in cold.steps)
    result = {
        "steps": options.steps,
        "step_seconds": options.seconds,
        "executor_startup_seconds": round(startup, 3),
        "cold_seconds": round(cold_seconds, 3),
        "steps_own_seconds": round(own, 3),
        "cold_overhead_ratio": round(cold_seconds / own, 3),
        "cold_cache": sorted({step.cache or "-" for step in cold.steps}),
        "cached_seconds": round(cached_seconds, 3),
        "cached_cache": sorted({step.cache or "-" for step in cached.steps}),
        "final_value": cached.steps[-1].outputs,
    }
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
