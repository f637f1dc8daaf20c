"""A small trained churn workspace, and a real uvicorn gateway on a loopback port."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from modelyard import datasets
from modelyard.data import IngestOptions
from modelyard.serving import GatewayOptions, create_app
from modelyard.training import TrainingSpec, train
from modelyard.workspace import Workspace


@pytest.fixture(scope="session")
def churn_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with churn:1 and churn:2 (10 and 20 trees, 1,000 rows): its path."""
    root = tmp_path_factory.mktemp("serving") / "ws"
    # Tests here create and revoke admin tokens on this shared workspace; revoking the
    # last one would close management for the tests after them (test_tokens checks
    # that closing on a workspace of its own).
    with Workspace.init(root, open_management=True) as ws:
        csv_path = root / "churn.csv"
        datasets.churn(1000, seed=3).to_csv(csv_path, index=False)
        ws.datasets.ingest(csv_path, "churn", IngestOptions(target="churned"))
        for trees in (10, 20):
            result = train(
                ws,
                TrainingSpec(dataset="churn", algorithm="xgboost", params={"n_estimators": trees}),
            )
            assert result.model is not None and "onnx" in result.model.flavors
    return root


@pytest.fixture(scope="session")
def churn_rows() -> list[dict[str, Any]]:
    """Rows as a client would send them (no target)."""
    frame = datasets.churn(300, seed=5).drop(columns=["churned"])
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "isoformat"):
        return None if str(value) == "NaT" else value.isoformat()
    return value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveGateway:
    """A gateway served by uvicorn in a thread."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread
    workspace: Workspace

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def stop(self) -> None:
        """Graceful shutdown (what SIGTERM does), waiting for the lifespan to finish."""
        self.server.should_exit = True
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "gateway did not shut down"


def start_gateway(workspace: Workspace, options: GatewayOptions | None = None) -> LiveGateway:
    """Start uvicorn on a free loopback port; return once /ping answers."""
    port = free_port()
    config = uvicorn.Config(
        create_app(workspace, options or GatewayOptions(access_log=False, poll_interval=0.2)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        loop="asyncio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.started:
            try:
                if httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200:
                    return LiveGateway(url, server, thread, workspace)
            except httpx.TransportError:
                pass
        if not thread.is_alive():
            break
        time.sleep(0.02)
    server.should_exit = True
    raise AssertionError("the gateway did not become ready")


@pytest.fixture
def gateway_factory(
    churn_workspace: Path,
) -> Iterator[Callable[..., LiveGateway]]:
    """Start gateways on the churn workspace; all stopped at the end of the test."""
    started: list[LiveGateway] = []
    opened: list[Workspace] = []

    def make(options: GatewayOptions | None = None) -> LiveGateway:
        ws = Workspace.open(churn_workspace)
        opened.append(ws)
        live = start_gateway(ws, options)
        started.append(live)
        return live

    yield make
    for live in started:
        if live.thread.is_alive():
            live.stop()
    for ws in opened:
        ws.close()


@pytest.fixture
def endpoint_name(churn_workspace: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh endpoint name, deleted after the test."""
    name = f"ep-{request.node.name[:40].replace('[', '-').replace(']', '')}"
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    yield name
    with Workspace.open(churn_workspace) as ws:
        if name in ws.endpoints.versions():
            ws.endpoints.delete(name)


def wait_served(live: LiveGateway, name: str, version: int, timeout: float = 60) -> None:
    """Poll the management API until the gateway serves ``version`` of ``name``."""
    deadline = time.monotonic() + timeout
    with live.client() as client:
        while time.monotonic() < deadline:
            described = client.get(f"/api/endpoints/{name}").json()
            if described.get("served_version") == version:
                return
            assert described.get("load_error") is None, described["load_error"]
            time.sleep(0.05)
    raise AssertionError(f"endpoint {name} version {version} was not served in {timeout} s")


@dataclass
class ServeProcess:
    """``modelyard serve`` running as a real process."""

    url: str
    process: subprocess.Popen[str]

    def stop(self) -> str:
        """SIGTERM (graceful shutdown); return stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=120)
        assert self.process.returncode in (0, -signal.SIGTERM), stderr
        return stderr


def start_serve(workspace: Path, *args: str) -> ServeProcess:
    """Start ``modelyard serve`` on a free port; return once it is ready."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "modelyard", "-w", str(workspace), "serve",
         "--port", str(port), "--no-access-log", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {process.communicate()}")
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                return ServeProcess(url, process)
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    process.kill()
    raise AssertionError("serve did not become ready")


@pytest.fixture
def serve_process(churn_workspace: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Start ``modelyard serve`` processes on the churn workspace; stopped afterwards."""
    started: list[ServeProcess] = []

    def make(*args: str) -> ServeProcess:
        served = start_serve(churn_workspace, *args)
        started.append(served)
        return served

    yield make
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
            served.process.communicate()
