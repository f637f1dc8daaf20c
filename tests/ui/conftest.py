"""A seeded workspace (two dataset versions, two trained models, runs with curves, an
endpoint with a history, a job) and the dashboard served by a real uvicorn."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from modelyard import datasets
from modelyard.data import IngestOptions
from modelyard.serving import TokenStore, VariantConfig
from modelyard.training import TrainingSpec, train
from modelyard.workspace import Workspace
from tests.serving.conftest import free_port


@dataclass
class Seeded:
    """The seeded workspace and what the tests look for in it."""

    workspace: Workspace
    admin_token: str
    invoke_token: str
    run_ids: list[str]
    job_id: str


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """Dataset churn:1 and churn:2, models churn:1 and churn:2 (10-tree XGBoost),
    three runs of experiment ``sweep`` with metric curves, endpoint ``churn-live``
    at configuration v2, one pending batch job, an admin and an invoke token."""
    root = tmp_path_factory.mktemp("ui") / "ws"
    ws = Workspace.init(root)
    for version, seed in ((1, 3), (2, 4)):
        csv_path = root / f"churn{version}.csv"
        datasets.churn(800, seed=seed).to_csv(csv_path, index=False)
        ws.datasets.ingest(csv_path, "churn", IngestOptions(target="churned"))
    for trees in (5, 10):
        spec = TrainingSpec(dataset="churn", algorithm="xgboost", params={"n_estimators": trees})
        assert train(ws, spec).model is not None
    run_ids = []
    for index, algorithm in enumerate(("xgboost", "lightgbm", "xgboost")):
        with ws.start_run("sweep", name=f"sweep-{index}") as run:
            run.log_params({"algorithm": algorithm, "learning_rate": 0.1 * (index + 1)})
            for step in range(5):
                run.log_metrics({"roc_auc": 0.6 + 0.05 * index + 0.01 * step}, step=step)
            run_ids.append(run.id)
    ws.endpoints.create("churn-live", [VariantConfig("a", "churn:1")])
    ws.endpoints.update("churn-live", variants=[VariantConfig("a", "churn:2")])
    job = ws.jobs.create("batch-transform", {"model": "churn:2"}, [("part-0", {"rows": 10})])
    tokens = TokenStore(ws.metadata)
    _, admin = tokens.create("ui-admin", "admin")
    _, invoke = tokens.create("ui-reader", "invoke")
    yield Seeded(ws, admin, invoke, run_ids, job.id)
    ws.close()


@dataclass
class LiveUi:
    """A server of the dashboard on a loopback port."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def serve(app: Any, ready_path: str) -> LiveUi:
    """Run ``app`` with uvicorn in a thread; return once ``ready_path`` answers."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and thread.is_alive():
        if server.started:
            try:
                if httpx.get(url + ready_path, timeout=5).status_code < 500:
                    return LiveUi(url, server, thread)
            except httpx.TransportError:
                pass
        time.sleep(0.02)
    server.should_exit = True
    raise AssertionError("the dashboard did not start")


@pytest.fixture(scope="session")
def live_ui(seeded: Seeded) -> Iterator[LiveUi]:
    """``modelyard ui``'s app for the seeded workspace."""
    from modelyard.ui import standalone_app

    live = serve(standalone_app(seeded.workspace), "/ui/login")
    yield live
    live.stop()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests keep a screenshot of each page (the path is printed)."""
    path = tmp_path_factory.mktemp("ui-screenshots")
    print(f"\ndashboard screenshots: {path}")
    return path
