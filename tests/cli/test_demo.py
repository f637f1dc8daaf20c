"""``modelyard demo`` end to end, as a new user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelyard.tracking import RunStatus
from modelyard.workspace import Workspace


@pytest.mark.slow
def test_demo_walks_every_stage_and_leaves_a_usable_workspace(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    process = subprocess.run(
        [sys.executable, "-m", "modelyard", "demo", "--dir", str(root), "--rows", "2000"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert process.returncode == 0, process.stderr
    out = process.stdout
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
        (run,) = ws.runs.list_runs("churn-demo")
        assert run.status is RunStatus.FINISHED
        assert run.metric_counts["recall_by_tenure_cut"] == 36
        (batch_job,) = ws.jobs.list_jobs("batch")
        assert batch_job.status.value == "succeeded"
        assert (batch_job.rows_done, batch_job.rows_rejected) == (20_000, 3)
    assert "7. Batch transform" in out
    assert "rejected C000011: column 'tenure_months' must be numeric" in out
