"""Traffic moves between variants under load, without a failed request."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from scipy.stats import chisquare

from modelyard.serving import VariantConfig
from modelyard.workspace import Workspace
from tests.serving.conftest import ServeProcess

CLIENTS = 16
PHASE_SECONDS = 5.0


@pytest.mark.slow
def test_weights_move_and_roll_back_under_load(
    churn_workspace: Path,
    serve_process: Callable[..., ServeProcess],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
) -> None:
    with Workspace.open(churn_workspace) as ws:
        ws.endpoints.create(endpoint_name, [VariantConfig("a", "churn:1")])
    served = serve_process()
    invoke = f"/endpoints/{endpoint_name}/invocations"
    manage = f"/api/endpoints/{endpoint_name}"
    bodies = [json.dumps(row).encode() for row in churn_rows]
    # (configuration served under, answered by, status) of every request
    log: list[tuple[str, str, int]] = []
    stop = asyncio.Event()

    async def client(index: int, http: httpx.AsyncClient) -> None:
        n = index
        while not stop.is_set():
            try:
                response = await http.post(
                    invoke,
                    content=bodies[n % len(bodies)],
                    headers={"content-type": "application/json"},
                )
                headers = response.headers
                log.append(
                    (
                        headers.get("x-modelyard-config-version", ""),
                        headers.get("x-modelyard-variant", ""),
                        response.status_code,
                    )
                )
            except httpx.TransportError as exc:
                log.append(("", type(exc).__name__, 0))
            n += CLIENTS

    async def operator(http: httpx.AsyncClient) -> None:
        changes: list[tuple[str, str, str, dict[str, Any] | None]] = [
            ("100/0", "", "", None),
            (
                "70/30 new variant",
                "PATCH",
                manage,
                {
                    "variants": [
                        {"name": "a", "model": "churn:1", "weight": 0.7},
                        {"name": "b", "model": "churn:2", "weight": 0.3},
                    ]
                },
            ),
            ("0/100", "PATCH", manage, {"weights": {"a": 0, "b": 1}}),
            ("rolled back to 70/30", "POST", f"{manage}/rollback", {"reason": "b is worse"}),
        ]
        for version, (_, method, path, body) in enumerate(changes, start=1):
            if method:
                response = await http.request(method, path, json=body)
                assert response.status_code == 200, response.text
                assert response.json()["served_version"] == version
            await asyncio.sleep(PHASE_SECONDS)
        stop.set()

    async def run() -> None:
        limits = httpx.Limits(max_connections=CLIENTS + 1)
        async with httpx.AsyncClient(base_url=served.url, limits=limits, timeout=30) as http:
            await asyncio.gather(operator(http), *(client(i, http) for i in range(CLIENTS)))

    asyncio.run(run())
    served.stop()
    failed = [entry for entry in log if entry[2] != 200]
    assert not failed, f"{len(failed)} of {len(log)} requests failed: {failed[:5]}"

    def counts(version: str) -> Counter[str]:
        return Counter(variant for served, variant, _ in log if served == version)

    assert set(counts("1")) == {"a"}  # 100/0
    assert set(counts("3")) == {"b"}  # 0/100
    for phase in ("2", "4"):  # 70/30 with a newly loaded variant; rolled back to it
        observed = counts(phase)
        total = observed["a"] + observed["b"]
        assert total > 200 and set(observed) == {"a", "b"}, observed
        result = chisquare([observed["a"], observed["b"]], [0.7 * total, 0.3 * total])
        assert result.pvalue > 0.001, (phase, observed, result)
    with Workspace.open(churn_workspace) as ws:
        rolled_back = ws.endpoints.history(endpoint_name)[-1]
    assert (rolled_back.action, rolled_back.reason) == ("rollback", "b is worse")
