"""A graceful stop under load: every request sent is answered, or never sent at all."""

from __future__ import annotations

import http.client
import json
import select
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelyard.serving import VariantConfig
from modelyard.workspace import Workspace
from tests.serving.conftest import ServeProcess


def _closed_by_server(connection: http.client.HTTPConnection) -> bool:
    """Whether the server closed this idle keep-alive connection (EOF waiting)."""
    sock = connection.sock
    if sock is None:
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)  # an idle connection has nothing to read but its end


def _client(port: int, path: str, body: bytes, stop: threading.Event, tally: Counter[str]) -> None:
    """Send requests on one keep-alive connection at a time until a connect is refused.

    Counts ``answered``; ``closing`` (answers carrying Connection: close);
    ``closed_before_send`` (the server ended an idle connection before this client
    sent on it: nothing was lost); ``refused`` (a new connection refused: the request
    was never sent); and ``lost``: a request sent that got no answer.
    """
    connection: http.client.HTTPConnection | None = None
    headers = {"content-type": "application/json"}
    while not stop.is_set():
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                connection.connect()
            except ConnectionRefusedError:
                tally["refused"] += 1
                return
        elif _closed_by_server(connection):
            tally["closed_before_send"] += 1
            connection.close()
            connection = None
            continue
        try:
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            response.read()
        except (http.client.RemoteDisconnected, ConnectionError):
            tally["lost"] += 1
            connection.close()
            connection = None
            continue
        tally["answered"] += 1
        assert response.status == 200, response.status
        if response.getheader("connection", "").lower() == "close":
            tally["closing"] += 1
            connection.close()
            connection = None


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_under_load_answers_or_refuses_every_request(
    churn_workspace: Path,
    serve_process: Callable[..., ServeProcess],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
    workers: int,
) -> None:
    with Workspace.open(churn_workspace) as ws:
        ws.endpoints.create(endpoint_name, [VariantConfig("a", "churn:1")], capture_percent=100)
    captured_before = _captured(churn_workspace, endpoint_name)
    served = serve_process("--workers", str(workers))
    port = int(served.url.rsplit(":", 1)[1])
    path = f"/endpoints/{endpoint_name}/invocations"
    stop = threading.Event()
    tallies = [Counter[str]() for _ in range(8)]
    threads = [
        threading.Thread(
            target=_client, args=(port, path, json.dumps(churn_rows[n]).encode(), stop, tally)
        )
        for n, tally in enumerate(tallies)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while sum(t["answered"] for t in tallies) < 400:  # every client under way
        assert time.monotonic() < deadline, "the load did not get going"
        time.sleep(0.05)
    served.process.send_signal(signal.SIGTERM)
    try:
        for thread in threads:
            thread.join(timeout=60)
    finally:
        stop.set()
    stderr = served.stop()
    total = sum(tallies, Counter[str]())
    assert not any(thread.is_alive() for thread in threads), total
    assert total["lost"] == 0, (total, stderr[-2000:])
    assert total["refused"] == len(threads), total  # each client ended on a refusal
    assert total["closing"] >= len(threads), total  # ... after an answer saying so
    # everything answered was processed: capture flushed on the way out holds it all
    captured = _captured(churn_workspace, endpoint_name) - captured_before
    assert captured == total["answered"], total


def _captured(workspace: Path, endpoint: str) -> int:
    """Records captured for ``endpoint`` so far (the name may be reused in a session)."""
    import pyarrow.dataset as ds

    root = workspace / ".modelyard" / "capture" / f"endpoint={endpoint}"
    if not root.exists():
        return 0
    return int(ds.dataset(root, format="parquet", partitioning="hive").count_rows())
