"""End to end through the real faces: traffic through ``modelyard serve``, then the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pandas as pd

from modelyard import datasets
from modelyard.workspace import Workspace
from tests.monitoring.conftest import client_rows
from tests.serving.conftest import start_serve


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelyard", "-w", str(root), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_traffic_through_a_real_gateway_is_monitored_from_the_command_line(
    monitor_root: Path, ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    frame = datasets.churn(300, seed=60)
    frame["monthly_charges"] = frame["monthly_charges"] * 1.6
    served = start_serve(monitor_root)
    try:
        with httpx.Client(base_url=served.url, timeout=30) as client:
            for i, row in enumerate(client_rows(frame)):
                answer = client.post(
                    f"/endpoints/{endpoint}/predict",
                    json=[row],
                    headers={"X-Amzn-SageMaker-Inference-Id": f"e2e-{i}"},
                )
                assert answer.status_code == 200, answer.text
            bad = client.post(f"/endpoints/{endpoint}/predict", json=[{"tenure_months": "x"}])
            assert bad.status_code == 422
    finally:
        served.stop()  # graceful: every captured record is written

    created = _cli(monitor_root, "monitor", "create", endpoint, "--drift", "psi>0.2")
    assert created.returncode == 0, created.stderr
    ran = _cli(monitor_root, "monitor", "run", endpoint, "--include-current", "--json")
    assert ran.returncode == 0, ran.stderr
    outcome = json.loads(ran.stdout)
    assert len(outcome["windows"]) >= 1
    assert "drift:monthly_charges" in {a["key"] for a in outcome["alerts"]}

    labels = tmp_path / "labels.csv"
    pd.DataFrame(
        {"inference_id": [f"e2e-{i}" for i in range(0, 300, 3)] + ["ghost"], "label": 1}
    ).to_csv(labels, index=False)
    ingested = _cli(monitor_root, "labels", "ingest", str(labels), "--endpoint", endpoint)
    assert ingested.returncode == 0, ingested.stderr
    assert "100 of 101 labels joined" in ingested.stdout
    assert "1 of 101 labels match no captured request" in ingested.stdout

    shown = _cli(monitor_root, "monitor", "show", endpoint, "--json")
    assert shown.returncode == 0, shown.stderr
    summary = json.loads(shown.stdout)
    labelled = sum(q["realised"]["labelled"] for q in summary["quality"])
    rows = sum(q["rows"] for q in summary["quality"])
    assert (labelled, rows) == (100, 300)
    # each variant's realised quality beside its model's registered evaluation
    models = {"a": "churn:1", "b": "churn:2"}
    assert {q["variant"]: q["registered"]["model"] for q in summary["quality"]} == {
        q["variant"]: models[q["variant"]] for q in summary["quality"]
    }
    history = json.loads(_cli(monitor_root, "monitor", "history", endpoint, "--json").stdout)
    # the gateway captures only what reached the model: the refused request is not traffic
    assert sum(w["rows"] for w in history) == 300
    assert sum(w["failed_requests"] for w in history) == 0
    shown_text = _cli(monitor_root, "monitor", "show", endpoint)
    assert shown_text.returncode == 0 and "registered" in shown_text.stdout


def test_command_line_errors_are_one_line(monitor_root: Path, endpoint: str) -> None:
    missing = _cli(monitor_root, "monitor", "show", "no-such-monitor")
    assert missing.returncode != 0
    assert missing.stderr.strip().count("\n") == 0 and "no-such-monitor" in missing.stderr
    bad_rule = _cli(monitor_root, "monitor", "create", endpoint, "--drift", "psi>>1")
    assert bad_rule.returncode != 0 and "psi>>1" in bad_rule.stderr
    no_file = _cli(monitor_root, "labels", "ingest", "/nope.csv", "--endpoint", endpoint)
    assert no_file.returncode != 0 and "/nope.csv" in no_file.stderr


def test_monitors_are_listed_and_deleted_from_the_command_line(
    monitor_root: Path, ws: Workspace, endpoint: str
) -> None:
    ws.monitors.create(endpoint, name=f"{endpoint}-m")
    listed = json.loads(_cli(monitor_root, "monitor", "list", "--json").stdout)
    assert {"name": f"{endpoint}-m", "endpoint": endpoint} in [
        {"name": m["name"], "endpoint": m["endpoint"]} for m in listed
    ]
    deleted = _cli(monitor_root, "monitor", "delete", f"{endpoint}-m")
    assert deleted.returncode == 0 and f"monitor {endpoint}-m deleted" in deleted.stdout
    assert f"{endpoint}-m" not in [m.name for m in ws.monitors.list()]
    again = _cli(monitor_root, "monitor", "delete", f"{endpoint}-m")
    assert again.returncode != 0 and again.stderr.strip().count("\n") == 0
    assert f"{endpoint}-m" in again.stderr
