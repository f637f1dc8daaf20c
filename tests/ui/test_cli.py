"""``modelyard ui`` as a real process, and a page plugged in through the one registration point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from starlette.responses import Response

from modelyard.ui import Page, PageRequest, create_ui_app
from modelyard.workspace import Workspace
from tests.serving.conftest import free_port
from tests.ui.conftest import serve


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
        with httpx.Client(base_url=live.url) as client:
            home = client.get("/ui/")
            assert '<a href="/ui/hello">Hello</a>' in home.text
            hello = client.get("/ui/hello")
            assert hello.status_code == 200 and "plugged in" in hello.text
            assert 'class="active">Hello' in hello.text
    finally:
        live.stop()
