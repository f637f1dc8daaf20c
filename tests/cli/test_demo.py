"""``modelyard demo`` end to end, as a new user runs it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from modelyard.tracking import RunStatus
from modelyard.workspace import Workspace
from tests._demo_extras import demo_extras, hidden_modules, hide
from tests.browser import OFFLINE, chromium
from tests.ui.walk import walk


@pytest.mark.slow
def test_demo_walks_every_stage_and_leaves_a_usable_workspace(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    # only what `make demo` installs: every other extra's modules are hidden
    hidden = hide(hidden_modules(demo_extras()), tmp_path / "hidden")
    path = os.pathsep.join(p for p in (hidden, os.environ.get("PYTHONPATH")) if p)
    port = _free_port()
    # one demo run serves both checks: every stage, then `--ui` ends serving the dashboard
    command = [sys.executable, "-m", "modelyard", "demo", "--dir", str(root), "--rows", "2000"]
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [*command, "--ui", "--ui-port", str(port)],
            stdout=subprocess.PIPE,
            stderr=stderr,  # a file: a full pipe nobody reads would stall the demo
            text=True,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "PYTHONPATH": path},
        )
        try:
            out = _read_until_dashboard(process, f"http://127.0.0.1:{port}/ui/", errors)
            page = _get_when_listening(f"http://127.0.0.1:{port}/ui/models")
            assert page.status_code == 200
            assert 'href="/ui/models/churn"' in page.text
            # every page a user reaches from the overview, in Chromium: no console error
            shots = tmp_path / "screenshots"
            shots.mkdir()
            print(f"\ndemo dashboard screenshots: {shots}")
            with chromium(OFFLINE) as driver:
                done = walk(driver, f"http://127.0.0.1:{port}", shots)
            assert {kind: e for kind, e in done.errors.items() if e} == {}
            assert done.missed <= {"pipeline-run", "pipeline-dag"}, done.opened  # no pipeline
        finally:
            process.send_signal(signal.SIGINT)
            rest, _ = process.communicate(timeout=120)
    assert process.returncode == 0, errors.read_text()
    out += rest
    for stage in ("1. Workspace", "2. Acquire", "3. Track"):
        assert stage in out
    assert "same content, same version" in out
    assert "2b. Explore" in out and "identifier" in out and "customer_id" in out
    assert "report (HTML, works offline): " in out and "major shift in " in out
    assert f"Everything is in the workspace {root}" in out
    assert f"modelyard -w {root} data list" in out
    with Workspace.open(root) as ws:
        assert [v.ref for v in ws.datasets.list_versions("churn")] == ["churn:2", "churn:1"]
        assert ws.datasets.get("houses").target == "price"
        auto_model = ws.models.get("churn-auto:1")  # learnt from every row once evaluated
        assert auto_model.lineage["fitted_on"] == ["train", "validation", "test"]
        (run,) = ws.runs.list_runs("churn-demo")
        assert run.status is RunStatus.FINISHED
        assert run.metric_counts["recall_by_tenure_cut"] == 36
        (batch_job,) = ws.jobs.list_jobs("batch")
        assert batch_job.status.value == "succeeded"
        assert (batch_job.rows_done, batch_job.rows_rejected) == (20_000, 3)
        monitor_runs = ws.jobs.list_jobs("monitor")
        assert monitor_runs and all(j.status.value == "succeeded" for j in monitor_runs)
        windows = ws.monitors.history("churn-api")
        flagged = {v["feature"] for w in windows for v in w["violations"]}
        # next month's customers pay more: the drifted price is found, the untouched flags not
        assert "monthly_charges" in flagged and "senior_citizen" not in flagged
        labelled = sum(
            (q.get("realised") or {}).get("labelled", 0) for q in ws.monitors.quality("churn-api")
        )
        assert labelled == 450  # 30 % of the 1,500 drifted requests
        assert (ws.settings.state_dir / "monitoring/reports/churn-api/report.html").is_file()
        episodes = ws.monitors.get("churn-api").open_episodes
        assert "drift:monthly_charges" in episodes
        # the quality rule (roc_auc<0.8) is weighed on the newest variant with 30 labels
        newest = [q for q in ws.monitors.quality("churn-api") if q["realised"]["labelled"] >= 30]
        assert ("quality:roc_auc" in episodes) == (newest[-1]["realised"]["roc_auc"] < 0.8)
    assert "4b. Prepare" in out and "charge_per_month" in out
    assert "churn-recipe:1" in out and "reviews:1 " in out  # both trained with a recipe
    assert "7. Batch transform" in out
    assert "refit on every row (train + validation + test) after evaluation" in out
    assert "10. Monitor" in out and "450 of 450 labels joined to churn-api" in out
    assert "estimated roc_auc before any label" in out
    assert "rejected C000011: column 'tenure_months' must be numeric" in out


def _read_until_dashboard(process: subprocess.Popen[str], url: str, errors: Path) -> str:
    """The demo's output up to the line announcing the dashboard at ``url``."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:  # the demo ended before serving: its own error says why
            raise AssertionError(
                "".join(lines[-30:]) + (process.stderr.read() if process.stderr else "")
            )
        lines.append(line)
        if line.startswith("dashboard for") and f" on {url} " in line:
            return "".join(lines)
    raise AssertionError("no dashboard line within 600 s:\n" + "".join(lines[-30:]))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get_when_listening(url: str) -> httpx.Response:
    """GET ``url`` once the server printed its address and began listening."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url, timeout=30)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
