"""A monitor run killed with SIGKILL part-way: the next run checks only the rest."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from modelyard import datasets
from modelyard.workspace import Workspace
from tests.monitoring.conftest import FIRST_HOUR, capture
from tests.monitoring.test_alerts import Receiver


def test_a_killed_run_leaves_whole_windows_and_the_next_checks_each_once(
    monitor_root: Path, ws: Workspace, endpoint: str
) -> None:
    hours = 24
    for k in range(hours):
        frame = datasets.churn(400, seed=80 + k)
        if k >= 2:
            frame["monthly_charges"] = frame["monthly_charges"] * 1.6
        capture(ws, endpoint, frame, FIRST_HOUR + timedelta(hours=k))
    receiver = Receiver()
    try:
        ws.monitors.create(endpoint, alerts=[f"webhook:{receiver.url}"])
        command = [sys.executable, "-m", "modelyard", "-w", str(monitor_root)]
        process = subprocess.Popen(
            [*command, "monitor", "run", endpoint],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 240
        while len(ws.monitors.history(endpoint)) < 4 and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()
        done = len(ws.monitors.history(endpoint))
        assert 4 <= done < hours  # killed part-way
        rerun = subprocess.run(
            [*command, "monitor", "run", endpoint], capture_output=True, text=True, timeout=600
        )
        assert rerun.returncode == 0, rerun.stderr
        assert rerun.stdout.startswith(f"{hours - done} window(s) checked")
        history = ws.monitors.history(endpoint)
        windows = [h["window"] for h in history]
        assert len(windows) == hours and len(set(windows)) == hours
        alerts = Counter((a["key"], a["status"]) for a in receiver.received)
        assert alerts[("drift:monthly_charges", "firing")] == 1
        # no duplicate: per key, alerts alternate firing, resolved, firing, ...
        for key in {k for k, _ in alerts}:
            statuses = [a["status"] for a in receiver.received if a["key"] == key]
            assert statuses == ["firing", "resolved"] * (len(statuses) // 2) + (
                ["firing"] if len(statuses) % 2 else []
            ), (key, statuses)
    finally:
        receiver.close()
