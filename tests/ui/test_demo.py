"""``modelyard demo --ui``: the demo ends by printing the dashboard's URL and serving it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def test_demo_ends_serving_the_dashboard(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelyard",
            "demo",
            "--dir",
            str(tmp_path / "demo"),
            "--rows",
            "1000",
            "--ui",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    url = None
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 600
        lines = []
        while time.monotonic() < deadline and url is None:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("dashboard for"):
                url = line.split(" on ")[1].split()[0]
        assert url == "http://127.0.0.1:8090/ui/", "".join(lines[-20:])
        page = None
        while time.monotonic() < deadline and page is None:
            try:
                page = httpx.get(url + "models", timeout=10)
            except httpx.TransportError:
                time.sleep(0.1)
        assert page is not None and page.status_code == 200
        assert 'href="/ui/models/churn"' in page.text
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    assert process.returncode == 0
