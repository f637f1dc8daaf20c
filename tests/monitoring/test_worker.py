"""``modelyard worker``: one lease holder, due monitors run, a SIGKILL survived."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from modelyard import datasets
from modelyard.monitoring._worker import Worker
from modelyard.workspace import Workspace
from tests.monitoring.conftest import FIRST_HOUR, capture
from tests.monitoring.test_alerts import Receiver


def test_one_worker_holds_the_lease_until_its_process_is_gone(ws: Workspace) -> None:
    holder = subprocess.Popen(["sleep", "60"])
    try:
        first = Worker(ws, owner=f"{socket.gethostname()}:{holder.pid}")
        second = Worker(ws)
        assert first.acquire()
        assert not second.acquire()
        assert second.run_once() == []
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        assert second.acquire()  # the holder is certainly gone: taken over at once
        assert not first.acquire() or first.owner == second.owner
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        second.release()


@pytest.mark.slow  # the acceptance point: 24 windows, a SIGKILL and two restarts
def test_a_worker_killed_mid_run_and_restarted_checks_every_window_once(
    monitor_root: Path, ws: Workspace, endpoint: str
) -> None:
    hours = 24
    for k in range(hours):
        frame = datasets.churn(400, seed=120 + k)
        if k >= 2:
            frame["monthly_charges"] = frame["monthly_charges"] * 1.6
        capture(ws, endpoint, frame, FIRST_HOUR + timedelta(hours=k))
    receiver = Receiver()
    try:
        ws.monitors.create(endpoint, alerts=[f"webhook:{receiver.url}"])
        command = [sys.executable, "-m", "modelyard", "-w", str(monitor_root), "worker", "--once"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 240
        while len(ws.monitors.history(endpoint)) < 4 and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()
        done = len(ws.monitors.history(endpoint))
        assert 4 <= done < hours
        restarted = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert restarted.returncode == 0, restarted.stderr
        assert f"{endpoint}: {hours - done} window(s) checked" in restarted.stdout
        windows = [h["window"] for h in ws.monitors.history(endpoint)]
        assert len(windows) == hours and len(set(windows)) == hours
        alerts = Counter((a["key"], a["status"]) for a in receiver.received)
        assert alerts[("drift:monthly_charges", "firing")] == 1
        # no duplicate: per key, alerts alternate firing, resolved, firing, ...
        for key in {k for k, _ in alerts}:
            statuses = [a["status"] for a in receiver.received if a["key"] == key]
            assert statuses == ["firing", "resolved"] * (len(statuses) // 2) + (
                ["firing"] if len(statuses) % 2 else []
            ), (key, statuses)
        # not due again until its schedule (1h) says so
        again = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert again.returncode == 0 and endpoint not in again.stdout
    finally:
        receiver.close()
