"""Data capture: every sampled request on disk after a graceful shutdown."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import httpx
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

from modelyard.serving import CaptureWriter, GatewayOptions, VariantConfig
from modelyard.serving._capture import CaptureRecord
from modelyard.serving._gateway import Gateway
from modelyard.workspace import Workspace
from tests.serving.conftest import ServeProcess


def _read(root: Path) -> Any:
    return ds.dataset(root, format="parquet", partitioning="hive").to_table()


@pytest.mark.slow
def test_ten_thousand_requests_all_captured(
    churn_workspace: Path,
    serve_process: Callable[..., ServeProcess],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
) -> None:
    with Workspace.open(churn_workspace) as ws:
        ws.endpoints.create(
            endpoint_name,
            [VariantConfig("a", "churn:1", 1), VariantConfig("b", "churn:2", 1)],
            capture_percent=100,
        )
    served = serve_process()
    path = f"/endpoints/{endpoint_name}/invocations"
    bodies = [json.dumps(row).encode() for row in churn_rows]
    total, clients = 10_000, 16
    port = int(served.url.rsplit(":", 1)[1])

    def client(index: int) -> list[int]:
        # http.client on keep-alive connections: light enough that the server, not
        # the test, sets the pace
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        statuses = []
        for n in range(index, total, clients):
            headers = {"content-type": "application/json", "X-Amzn-SageMaker-Inference-Id": str(n)}
            connection.request("POST", path, bodies[n % len(bodies)], headers)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        connection.close()
        return statuses

    with ThreadPoolExecutor(clients) as pool:
        statuses = [s for result in pool.map(client, range(clients)) for s in result]
    assert statuses.count(200) == total
    with httpx.Client(base_url=served.url) as web:
        metrics = web.get("/metrics").text
    assert "modelyard_capture_dropped 0.0" in metrics
    assert "modelyard_capture_failed 0.0" in metrics
    assert "modelyard_capture_queue_depth" in metrics
    served.stop()
    table = _read(churn_workspace / ".modelyard" / "capture" / f"endpoint={endpoint_name}")
    assert table.num_rows == total
    assert set(table.column("inference_id").to_pylist()) == {str(n) for n in range(total)}
    assert set(table.column("variant").to_pylist()) == {"a", "b"}
    assert pc.all(pc.equal(table.column("status"), 200)).as_py()
    first = json.loads(table.column("response")[0].as_py())
    assert "predictions" in first and first["variant"] in ("a", "b")


def test_full_queue_drops_are_counted(tmp_path: Path) -> None:
    writer = CaptureWriter(tmp_path, max_queue_bytes=3 * 260)  # three records of 260 bytes
    accepted = [
        writer.offer(
            CaptureRecord(
                1_700_000_000.0, "e", "a", "m:1", False, str(i), None, 1.5, 200, "", "{}", "{}"
            )
        )
        for i in range(5)
    ]
    assert accepted == [True, True, True, False, False] and writer.dropped == 2
    writer.close()  # never started: close still writes what was queued
    table = _read(tmp_path)
    assert table.num_rows == 3 and writer.written == 3
    assert table.column("hour").to_pylist()[0] == "2023-11-14T22"
    assert table.column("request_id").to_pylist() == ["0", "1", "2"]
    assert str(table.column("time")[0].as_py()) == "2023-11-14 22:13:20+00:00"


def test_an_inference_id_utf8_cannot_hold_loses_no_record(tmp_path: Path) -> None:
    """A KServe id is any JSON string: a lone surrogate made its whole batch unwritable."""
    writer = CaptureWriter(tmp_path)
    for i, inference_id in enumerate(["ok", "\ud800", None, "caf\u00e9"]):
        writer.offer(
            CaptureRecord(
                1_700_000_000.0, "e", "a", "m:1", False, str(i), inference_id, 1.0, 200, "", "", ""
            )
        )
    writer.close()
    table = _read(tmp_path).sort_by("request_id")
    assert writer.failed == 0 and writer.written == 4
    assert table.column("inference_id").to_pylist() == ["ok", "?", None, "caf\u00e9"]


def test_sampling_and_shadow_capture(
    gateway_factory: Callable[..., Any],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    from modelyard.serving import GatewayOptions
    from tests.serving.conftest import wait_served

    live = gateway_factory(GatewayOptions(capture_dir=tmp_path, access_log=False))
    live.workspace.endpoints.create(
        endpoint_name,
        [VariantConfig("a", "churn:1"), VariantConfig("s", "churn:2", shadow=True)],
        capture_percent=0,
    )
    wait_served(live, endpoint_name, 1)
    with live.client() as client:
        for row in churn_rows[:40]:
            response = client.post(f"/endpoints/{endpoint_name}/invocations", json=row)
            assert response.status_code == 200
            assert response.json()["variant"] == "a"
            assert response.headers["x-modelyard-variant"] == "a"
        shadow_line = f'modelyard_shadow_requests_total{{endpoint="{endpoint_name}",variant="s"}}'
        deadline = time.monotonic() + 30  # shadows answer off the request path: poll
        while shadow_line not in (metrics := client.get("/metrics").text):
            assert time.monotonic() < deadline, "no shadow answers counted"
            time.sleep(0.05)
    assert "modelyard_shadow_dropped 0.0" in metrics
    live.stop()  # shadow copies finish and the capture is flushed on shutdown
    table = _read(tmp_path)
    assert table.num_rows == 40  # capture 0 %: only the shadow's answers
    assert set(table.column("variant").to_pylist()) == {"s"}
    assert all(table.column("shadow").to_pylist())
    assert all("predictions" in json.loads(r) for r in table.column("response").to_pylist())


def test_shadow_copies_left_at_shutdown_are_counted(workspace: Workspace) -> None:
    """Shadow copies still waiting when the drain time ran out were lost without a count."""
    gateway = Gateway(workspace, GatewayOptions(access_log=False, shadow_drain_seconds=0.05))

    async def shut_down_with_a_backlog() -> None:
        gateway._shadows = asyncio.Queue()
        for _ in range(3):  # no shadow worker runs: nothing takes them
            gateway._shadows.put_nowait(cast(Any, ("state", "outcome", "{}")))
        await gateway.stop()

    asyncio.run(shut_down_with_a_backlog())
    assert gateway.shadow_dropped == 3
    assert b"modelyard_shadow_dropped 3.0" in gateway.metrics.render()


def test_the_capture_queue_is_bounded_in_bytes_over_http(
    gateway_factory: Callable[..., Any],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    """Records past the byte budget are dropped and counted, never queued."""
    from modelyard.serving import GatewayOptions
    from tests.serving.conftest import wait_served

    live = gateway_factory(
        GatewayOptions(capture_dir=tmp_path, access_log=False, capture_queue_bytes=4000)
    )
    live.workspace.endpoints.create(
        endpoint_name, [VariantConfig("a", "churn:1")], capture_percent=100
    )
    wait_served(live, endpoint_name, 1)
    big = [dict(row, padding="x" * 1500) for row in churn_rows[:30]]  # ~2 kB a record
    with live.client() as client:
        for row in big:  # faster than the writer's half-second flush
            assert client.post(f"/endpoints/{endpoint_name}/predict", json=row).status_code == 200
        metrics = client.get("/metrics").text
    dropped = float(re.findall(r"^modelyard_capture_dropped (\S+)$", metrics, re.M)[0])
    assert dropped >= 10  # at most two records fit the 4,000 bytes at a time
    live.stop()
    assert _read(tmp_path).num_rows == 30 - dropped


def test_requests_refused_before_the_model_are_not_captured(
    gateway_factory: Callable[..., Any],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    from modelyard.serving import GatewayOptions
    from tests.serving.conftest import wait_served

    live = gateway_factory(GatewayOptions(capture_dir=tmp_path, access_log=False))
    live.workspace.endpoints.create(
        endpoint_name, [VariantConfig("a", "churn:1")], capture_percent=100
    )
    wait_served(live, endpoint_name, 1)
    _, secret = live.workspace.endpoints.tokens.create("capture-test", "invoke")
    try:
        path = f"/endpoints/{endpoint_name}/predict"
        with live.client() as client:
            answered_ids = []  # answered before the token reached the gateway (its poll)
            deadline = time.monotonic() + 30
            while (before := client.post(path, json=churn_rows[0])).status_code != 401:
                answered_ids.append(before.json()["request_id"])
                assert time.monotonic() < deadline, "the token never took effect"
                time.sleep(0.05)
            for _ in range(3):
                assert client.post(path, json=churn_rows[0]).status_code == 401
            auth = {"authorization": f"Bearer {secret}"}
            assert client.post(path, json={"nope": 1}, headers=auth).status_code == 422
            assert client.post(path, content=b"{", headers=auth).status_code == 422
            answered = client.post(path, json=churn_rows[1], headers=auth)
            assert answered.status_code == 200
        live.stop()
        answered_ids.append(answered.json()["request_id"])
        table = _read(tmp_path)
        assert sorted(table.column("request_id").to_pylist()) == sorted(answered_ids)
        assert set(table.column("status").to_pylist()) == {200}
    finally:
        for token in live.workspace.endpoints.tokens.list():
            live.workspace.endpoints.tokens.revoke(token.id)


@pytest.mark.slow
def test_large_invalid_bodies_do_not_grow_the_gateway(
    churn_workspace: Path,
    serve_process: Callable[..., ServeProcess],
    endpoint_name: str,
) -> None:
    """8 clients sending 6 MB bodies that do not parse: memory stays flat."""
    import psutil

    with Workspace.open(churn_workspace) as ws:
        ws.endpoints.create(endpoint_name, [VariantConfig("a", "churn:1")], capture_percent=100)
    served = serve_process()
    process = psutil.Process(served.process.pid)
    body = b'[{"tenure": ' + b"1" * (6 * 1024 * 1024 - 40) + b"]"
    path = f"{served.url}/endpoints/{endpoint_name}/invocations"

    def client(_: int) -> list[int]:
        with httpx.Client(timeout=60) as web:
            headers = {"content-type": "application/json"}
            return [web.post(path, content=body, headers=headers).status_code for _ in range(6)]

    with httpx.Client(timeout=60) as web:  # warm: the first answers allocate for good
        web.post(path, content=body, headers={"content-type": "application/json"})
    before = process.memory_info().rss
    with ThreadPoolExecutor(8) as pool:
        statuses = [s for result in pool.map(client, range(8)) for s in result]
    after = process.memory_info().rss
    assert len(statuses) == 48 and all(400 <= s < 500 for s in statuses), set(statuses)
    assert after - before < 200 * 1024 * 1024, f"RSS grew by {(after - before) >> 20} MB"
