"""``modelyard worker`` runs queued pipeline runs; SIGKILLed mid-run, the next worker
finishes the run and no step recorded as finished runs again (through the CLI)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from modelyard.pipelines import PipelineStore
from modelyard.workspace import Workspace
from tests.conftest import Cli

STEPS = 6


def _save_chain(cli: Cli, tmp_path: Path, marks: Path) -> None:
    steps = []
    for index in range(1, STEPS + 1):
        inputs: list[object] = [str(marks), f"s{index}", 1.0]
        if index > 1:
            inputs.append(f"${{s{index - 1}}}")
        steps.append(
            {
                "name": f"s{index}",
                "kind": "function",
                "function": "tests.pipelines._functions:mark",
                "inputs": inputs,
                "cache": False,  # a rerun would not hide behind a cache hit
            }
        )
    path = tmp_path / "chain.yaml"
    path.write_text(json.dumps({"name": "chain", "steps": steps}))
    cli("pipeline", "save", str(path))


def test_a_worker_killed_mid_run_is_resumed_by_the_next_without_rerunning_finished_steps(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    _save_chain(cli, tmp_path, marks)
    queued = json.loads(cli("pipeline", "run", "chain", "--queue", "--json").stdout)
    assert (queued["status"], queued["trigger"]) == ("pending", "manual")

    worker = subprocess.Popen(
        [sys.executable, "-m", "modelyard", "-w", str(cli.workspace), "worker", "--poll", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    store = PipelineStore(workspace)
    try:
        deadline = time.monotonic() + 180
        while True:  # two steps recorded as finished, the third under way
            run = store.get_run(queued["id"])
            statuses = [s.status for s in run.steps]
            if statuses[:3] == ["succeeded", "succeeded", "running"]:
                break
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, statuses
            time.sleep(0.05)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.communicate()
    finished = {s.name for s in store.get_run(queued["id"]).steps if s.status == "succeeded"}
    assert len(finished) < STEPS

    again = cli("worker", "--once", timeout=300)
    assert "resuming it" in again.stderr and "succeeded" in again.stderr, again.stderr
    shown = json.loads(cli("pipeline", "show", queued["id"][:8], "--json").stdout)
    assert shown["status"] == "succeeded", shown["error"]
    assert [s["status"] for s in shown["steps"]] == ["succeeded"] * STEPS
    assert shown["steps"][-1]["outputs"] == {"value": STEPS}

    executions = Counter(path.name.split(".")[0] for path in marks.iterdir())
    assert {name: executions[name] for name in finished} == {name: 1 for name in finished}
    assert set(executions) == {f"s{i}" for i in range(1, STEPS + 1)}
    listed = json.loads(cli("pipeline", "runs", "chain", "--json").stdout)
    assert [r["id"] for r in listed] == [queued["id"]]  # resumed, not run anew
