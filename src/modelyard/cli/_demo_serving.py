"""The demo's serving stage: two variants and a shadow behind a real gateway."""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from modelyard.cli._render import console, table

if TYPE_CHECKING:
    from modelyard.cli._demo import _Tour
    from modelyard.workspace import Workspace

__all__ = ["demo_gateway", "serve_stage"]

_REQUESTS = 300


def serve_stage(tour: _Tour) -> None:
    """Deploy churn with a challenger and a shadow, send traffic over HTTP, shift it."""
    import httpx

    from modelyard import datasets
    from modelyard.serving import VariantConfig
    from modelyard.training import TrainingSpec, train

    workspace = tour.workspace
    current = tour.facts["model:churn"]
    with console.status("training a challenger and a shadow candidate…"):
        dataset = tour.facts["churn"]
        challenger = train(
            workspace,
            TrainingSpec(dataset=dataset, algorithm="xgboost", params={"n_estimators": 60}),
        ).model
        candidate = train(workspace, TrainingSpec(dataset=dataset, algorithm="linear")).model
    assert challenger is not None and candidate is not None
    endpoint = workspace.endpoints.create(
        "churn-api",
        [
            VariantConfig("current", current, 0.8),
            VariantConfig("challenger", challenger.ref, 0.2),
            VariantConfig("shadow", candidate.ref, shadow=True),
        ],
        capture_percent=100,
    )
    console.print(
        f"endpoint [bold]{endpoint.name}[/]: current {current} 80 %, challenger "
        f"{challenger.ref} 20 %, shadow {candidate.ref} (answers captured, never returned)"
    )
    rows = datasets.churn(_REQUESTS, seed=21).drop(columns=["churned"])
    bodies = [
        json.dumps(_plain({str(k): v for k, v in r.items()})) for r in rows.to_dict("records")
    ]
    with demo_gateway(workspace) as url:
        console.print(f"gateway on {url} (OpenAPI at {url}/docs)")
        with httpx.Client(base_url=url, timeout=30) as client:
            latencies = _send(client, bodies, "/endpoints/churn-api/invocations")
            _print_split(latencies, {"current": 0.8, "challenger": 0.2})
            moved = client.patch(
                "/api/endpoints/churn-api", json={"weights": {"current": 0, "challenger": 1}}
            )
            moved.raise_for_status()
            after = _send(client, bodies[:50], "/endpoints/churn-api/invocations")
            console.print(
                "weights moved to challenger 100 % without a restart → "
                + ", ".join(f"{k}: {len(v)}" for k, v in after.items())
            )
            back = client.post("/api/endpoints/churn-api/rollback").json()
            console.print(
                f"rolled back to configuration {back['config_version']}: "
                + ", ".join(f"{k} {w:.0%}" for k, w in back["weights"].items())
            )
    captured = _count(workspace.settings.state_dir / "capture" / "endpoint=churn-api")
    console.print(
        f"graceful shutdown flushed the capture: {captured:,} records (production and shadow) "
        f"in {workspace.settings.state_dir / 'capture'}"
    )


def _send(client: Any, bodies: list[str], path: str) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    headers = {"content-type": "application/json"}
    for body in bodies:
        started = time.perf_counter()
        response = client.post(path, content=body, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        latencies[response.headers["x-modelyard-variant"]].append(elapsed)
    return latencies


def _print_split(latencies: dict[str, list[float]], weights: dict[str, float]) -> None:
    total = sum(len(v) for v in latencies.values())
    rows: list[list[Any]] = []
    for name, weight in weights.items():
        values = sorted(latencies.get(name, []))
        rows.append(
            [
                name,
                len(values),
                f"{len(values) / total:.0%}",
                f"{weight:.0%}",
                f"{statistics.median(values):.2f}" if values else "-",
                f"{values[int(len(values) * 0.99) - 1]:.2f}" if values else "-",
            ]
        )
    console.print(
        table(
            f"{total} requests over HTTP (one client, round trip in ms)",
            ["variant", "requests", "share", "weight", "p50 ms", "p99 ms"],
            rows,
        )
    )


@contextmanager
def demo_gateway(workspace: Workspace) -> Iterator[str]:
    """A gateway over the demo's workspace, served by uvicorn in a thread of this
    process on a free loopback port (configuration polled every 0.2 s); yields its
    URL once it answers, and stops it gracefully (the capture is flushed)."""
    import asyncio

    import uvicorn

    from modelyard.serving import GatewayOptions, create_app

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(workspace, GatewayOptions(access_log=False, poll_interval=0.2)),
            host="127.0.0.1",
            port=_free_port(),
            log_level="warning",
        )
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.config.port}"
    try:
        _wait_ready(url, thread)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def _wait_ready(url: str, thread: threading.Thread) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and thread.is_alive():
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise RuntimeError("the demo gateway did not start")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, float) and value != value:
            out[key] = None
        elif hasattr(value, "isoformat"):
            out[key] = None if str(value) == "NaT" else value.isoformat()
        else:
            out[key] = value
    return out


def _count(directory: Any) -> int:
    import pyarrow.dataset as ds

    if not directory.exists():
        return 0
    return int(ds.dataset(directory, format="parquet", partitioning="hive").count_rows())
