"""``modelyard ui`` as a real process, and a page plugged in through the one registration point."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.responses import Response

from modelyard.ui import Page, PageRequest, create_ui_app
from modelyard.workspace import Workspace
from tests.serving.conftest import free_port
from tests.ui.conftest import Seeded, serve


def test_modelyard_ui_serves_the_workspace_on_loopback(workspace: Workspace) -> None:
    with workspace.start_run("cli-exp", name="from-cli") as run:
        run.log_metrics({"auc": 0.7})
    port = free_port()
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelyard",
            "-w",
            str(workspace.settings.workspace),
            "ui",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/ui/" in line
        deadline = time.monotonic() + 60
        page = None
        while time.monotonic() < deadline and page is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/ui/runs", timeout=5)
            except httpx.TransportError:
                time.sleep(0.1)
        assert page is not None and page.status_code == 200
        assert "from-cli" in page.text and "modelyard runs list" in page.text
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert home.status_code == 307 and home.headers["location"] == "/ui/"
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_modelyard_ui_outside_a_workspace_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "modelyard", "-w", str(tmp_path / "none"), "ui"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().startswith("error: no modelyard workspace at")
    assert len(result.stderr.strip().splitlines()) == 1


def _hello(page: PageRequest) -> Response:
    return page.render("error.html", title="Hello page", message="plugged in", back="/ui/")


def test_a_page_plugs_in_with_its_menu_entry(workspace: Workspace) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    extra = Page("hello", "/hello", _hello, "Hello")
    app = Starlette(routes=[Mount("/ui", app=create_ui_app(workspace, pages=[extra]))])
    live = serve(app, "/ui/login")
    try:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            home = client.get("/ui/")
            assert '<a href="/ui/hello">Hello</a>' in home.text
            hello = client.get("/ui/hello")
            assert hello.status_code == 200 and "plugged in" in hello.text
            assert 'class="active">Hello' in hello.text
    finally:
        live.stop()


_MODELYARD = (sys.executable, "-m", "modelyard", "-w")


def _show(root: Path, *args: str) -> str:
    """A ``modelyard`` command's stdout (it must succeed)."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "modelyard", "-w", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _links(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("dashboard: ")]


@pytest.mark.slow
def test_show_commands_print_the_running_dashboards_page(seeded: Seeded) -> None:
    """`modelyard ui --port 0` records where it listens; each show command prints its
    page's URL, the URL opens that page, and nothing is printed once it stopped or
    when its record names a process that is gone."""
    ws = seeded.workspace
    root = ws.settings.workspace
    if "churn-watch" not in [m.name for m in ws.monitors.list()]:
        ws.monitors.create("churn-live", name="churn-watch")
    run_id = seeded.run_ids[0]
    assert _links(_show(root, "runs", "show", run_id)) == []
    process = subprocess.Popen(
        [sys.executable, "-m", "modelyard", "-w", str(root), "ui", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "300"},
    )
    try:
        assert process.stdout is not None
        found = re.search(r"(http://127\.0\.0\.1:\d+/ui)/", process.stdout.readline())
        assert found is not None
        base = found.group(1)
        expected = {
            ("runs", "show", run_id): f"{base}/runs/{run_id}",
            ("data", "show", "churn:2"): f"{base}/datasets/churn/2",
            ("model", "show", "churn:2"): f"{base}/models/churn/2",
            ("endpoint", "show", "churn-live"): f"{base}/endpoints/churn-live",
            ("monitor", "show", "churn-watch"): f"{base}/monitors/churn-watch",
        }
        with httpx.Client(timeout=30) as client:
            page = client.get(f"{base}/login")  # listening before the URL was printed
            assert page.status_code == 200
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None
            login = {"csrf": csrf.group(1), "token": seeded.invoke_token, "next": "/ui/"}
            assert client.post(f"{base}/login", data=login).status_code == 303
            for args, link in expected.items():
                assert _links(_show(root, *args)) == [f"dashboard: {link}"], args
                answer = client.get(link)
                assert answer.status_code == 200, link
                assert f"modelyard {args[0]} show" in answer.text, link
        assert _links(_show(root, "runs", "show", run_id, "--json")) == []  # JSON stays JSON
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    assert process.returncode == 0
    record = ws.settings.state_dir / "ui.json"
    assert not record.exists()
    assert _links(_show(root, "runs", "show", run_id)) == []
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    record.write_text(json.dumps({"pid": gone.pid, "url": "http://127.0.0.1:9/ui"}))
    try:
        assert _links(_show(root, "model", "show", "churn:2")) == []  # stale: ignored
    finally:
        record.unlink()


def test_the_dashboard_refuses_a_port_in_use_in_one_line(workspace: Workspace) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*_MODELYARD, str(workspace.settings.workspace), "ui", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert result.stderr.strip().startswith(f"error: cannot listen on 127.0.0.1:{port}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (workspace.settings.state_dir / "ui.json").exists()
