"""The CLI faces: endpoint, token and serve, as real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pyarrow.dataset as ds
import pytest

from tests.conftest import Cli
from tests.serving.conftest import free_port


@pytest.mark.slow
def test_endpoint_lifecycle(churn_workspace: Path, endpoint_name: str) -> None:
    cli = Cli(churn_workspace)
    created = json.loads(
        cli(
            "endpoint", "create", endpoint_name, "--variant", "churn:1=0.9",
            "--variant", "churn:2=0.1", "--shadow", "churn:2", "--capture", "100", "--json",
        ).stdout
    )  # fmt: skip
    assert created["weights"] == pytest.approx({"churn-1": 0.9, "churn-2": 0.1})
    assert [v["shadow"] for v in created["variants"]] == [False, False, True]
    assert created["capture_percent"] == 100
    bad = cli("endpoint", "create", endpoint_name, "--variant", "churn:1", check=False)
    assert bad.exit_code == 4 and "already exists" in bad.stderr
    updated = json.loads(
        cli(
            "endpoint", "update", endpoint_name, "--weights", "churn:1=0,churn:2=1", "--json"
        ).stdout
    )
    assert updated["config_version"] == 2
    assert updated["weights"] == {"churn-1": 0.0, "churn-2": 1.0}
    rolled = json.loads(
        cli("endpoint", "rollback", endpoint_name, "--reason", "churn-2 mislabels", "--json").stdout
    )
    assert rolled["config_version"] == 3 and rolled["weights"]["churn-1"] == pytest.approx(0.9)
    history = json.loads(cli("endpoint", "history", endpoint_name, "--json").stdout)
    assert [h["action"] for h in history] == ["create", "update", "rollback"]
    assert history[-1]["reason"] == "churn-2 mislabels"
    listed = json.loads(cli("endpoint", "list", "--json").stdout)
    assert endpoint_name in [e["name"] for e in listed]
    assert "churn-1" in cli("endpoint", "show", endpoint_name).stdout
    unknown = cli("endpoint", "update", endpoint_name, "--weights", "nope=1", check=False)
    assert unknown.exit_code == 2 and "nope" in unknown.stderr
    zero = cli("endpoint", "update", endpoint_name, "--weights", "churn-1=0,churn-2=0", check=False)
    assert zero.exit_code == 2 and "all zero" in zero.stderr
    missing = cli("endpoint", "create", "other", "--variant", "churn:99", check=False)
    assert missing.exit_code == 3 and "churn:99" in missing.stderr
    unconfirmed = cli("endpoint", "delete", endpoint_name, check=False)
    assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.stderr
    assert "churn-1" in cli("endpoint", "show", endpoint_name).stdout  # still there
    cli("endpoint", "delete", endpoint_name, "--yes")
    gone = cli("endpoint", "show", endpoint_name, check=False)
    assert gone.exit_code == 3 and endpoint_name in gone.stderr
    history = json.loads(cli("endpoint", "history", endpoint_name, "--json").stdout)
    assert [h["action"] for h in history] == ["create", "update", "rollback", "delete"]


@pytest.mark.slow
def test_serve_container_contract_and_graceful_shutdown(
    churn_workspace: Path, endpoint_name: str, churn_rows: list[dict[str, Any]]
) -> None:
    cli = Cli(churn_workspace)
    cli("endpoint", "create", endpoint_name, "--variant", "churn:2", "--capture", "100")
    port = free_port()
    env = {**os.environ, "NO_COLOR": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "modelyard", "-w", str(churn_workspace), "serve",
         "--endpoint", endpoint_name, "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()
            try:
                if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not become ready"
            time.sleep(0.05)
        with httpx.Client(base_url=url) as client:
            for row in churn_rows[:25]:
                response = client.post("/invocations", json=row)
                assert response.status_code == 200, response.text
            metrics = client.get("/metrics").text
        assert f'modelyard_requests_total{{endpoint="{endpoint_name}",status="200"' in metrics
        assert (
            f'modelyard_request_latency_seconds_count{{endpoint="{endpoint_name}",'
            'variant="churn-2"} 25.0'
        ) in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit says why
    assert process.returncode in (0, -signal.SIGTERM), stderr
    access = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert sum(1 for a in access if a.get("endpoint") == endpoint_name) == 25
    capture = churn_workspace / ".modelyard" / "capture" / f"endpoint={endpoint_name}"
    table = ds.dataset(capture, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 25


@pytest.mark.slow
def test_tokens_cli(tmp_path: Path) -> None:
    from modelyard.workspace import Workspace

    Workspace.init(tmp_path / "ws").close()
    cli = Cli(tmp_path / "ws")
    made = json.loads(cli("token", "create", "--scope", "admin", "--name", "ci", "--json").stdout)
    assert made["token"].startswith("myd_") and made["scope"] == "admin"
    listed = json.loads(cli("token", "list", "--json").stdout)
    assert listed[0]["name"] == "ci" and "token" not in listed[0]
    bad = cli("token", "create", "--scope", "root", check=False)
    assert bad.exit_code == 2 and "root" in bad.stderr
    cli("token", "revoke", str(made["id"]))
    assert json.loads(cli("token", "list", "--json").stdout) == []


@pytest.mark.slow
def test_serve_with_two_workers_shuts_down_gracefully(
    churn_workspace: Path, endpoint_name: str, churn_rows: list[dict[str, Any]]
) -> None:
    from tests.serving.conftest import start_serve

    cli = Cli(churn_workspace)
    cli("endpoint", "create", endpoint_name, "--variant", "churn:1", "--capture", "100")
    served = start_serve(churn_workspace, "--workers", "2")
    with httpx.Client(base_url=served.url) as client:
        for row in churn_rows[:60]:
            response = client.post(f"/endpoints/{endpoint_name}/invocations", json=row)
            assert response.status_code == 200, response.text
    served.stop()  # SIGTERM to the parent: forwarded, each worker flushes its capture
    capture = churn_workspace / ".modelyard" / "capture" / f"endpoint={endpoint_name}"
    table = ds.dataset(capture, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 60
