"""API tokens: once a workspace has any, invocation needs invoke or admin, management admin."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from modelyard.serving import VariantConfig
from modelyard.workspace import Workspace
from tests.serving.conftest import LiveGateway, start_gateway, wait_served


def test_tokens_guard_invocation_and_management(
    gateway_factory: Callable[..., LiveGateway],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
) -> None:
    live = gateway_factory()
    tokens = live.workspace.endpoints.tokens
    live.workspace.endpoints.create(endpoint_name, [VariantConfig("a", "churn:1")])
    wait_served(live, endpoint_name, 1)
    invoke_path = f"/endpoints/{endpoint_name}/invocations"
    made = [tokens.create("app", "invoke"), tokens.create("ops", "admin")]
    try:
        invoke_token, admin_token = made[0][1], made[1][1]
        with live.client() as client:
            deadline = time.monotonic() + 10  # the gateway polls the store for tokens
            while client.post(invoke_path, json=churn_rows[0]).status_code != 401:
                assert time.monotonic() < deadline, "tokens were not picked up"
                time.sleep(0.05)

            def call(method: str, path: str, token: str | None, **kw: Any) -> httpx.Response:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                return client.request(method, path, headers=headers, **kw)

            assert call("POST", invoke_path, None, json=churn_rows[0]).status_code == 401
            wrong = call("POST", invoke_path, "myd_wrong", json=churn_rows[0])
            assert wrong.status_code == 401 and wrong.headers["x-amzn-errortype"]
            assert call("POST", invoke_path, invoke_token, json=churn_rows[0]).status_code == 200
            assert call("POST", invoke_path, admin_token, json=churn_rows[0]).status_code == 200
            manage = f"/api/endpoints/{endpoint_name}"
            assert call("GET", manage, None).status_code == 401
            forbidden = call("GET", manage, invoke_token)
            assert forbidden.status_code == 403
            assert forbidden.json()["error"]["type"] == "ForbiddenError"
            assert call("GET", manage, admin_token).status_code == 200
            assert call("GET", "/v2/health/ready", None).status_code == 200
            assert call("GET", f"/v2/models/{endpoint_name}", None).status_code == 401
            assert call("GET", f"/v2/models/{endpoint_name}", invoke_token).status_code == 200
    finally:
        for info, _ in made:
            tokens.revoke(info.id)
    assert tokens.list() == []


def test_revoking_the_last_admin_token_closes_management(tmp_path: Path) -> None:
    """Revoking it reopened the management API to anyone (issue 16 finding 6)."""
    with Workspace.init(tmp_path / "ws") as ws:
        live = start_gateway(ws)
        try:
            with live.client() as client:
                assert client.get("/api/endpoints").status_code == 200  # a laptop: open
                info, secret = ws.endpoints.tokens.create("ops", "admin")
                _poll(client, 401)
                headers = {"Authorization": f"Bearer {secret}"}
                assert client.get("/api/endpoints", headers=headers).status_code == 200
                ws.endpoints.tokens.revoke(info.id)
                closed = _poll(client, 403)
                message = closed.json()["error"]["message"]
                assert "modelyard token create --scope admin" in message
                assert "open_management = true" in message
                posted = client.post("/api/endpoints", json={"name": "x", "variants": []})
                assert posted.status_code == 403
                assert client.get("/ping").status_code == 200  # invocation stays open
                assert ws.endpoints.tokens.list() == []
                # a new admin token opens management to its holder again
                _, again = ws.endpoints.tokens.create("ops2", "admin")
                _poll(client, 401)
                headers = {"Authorization": f"Bearer {again}"}
                assert client.get("/api/endpoints", headers=headers).status_code == 200
        finally:
            live.stop()
    # the workspace setting reopens it
    with Workspace.open(tmp_path / "ws", open_management=True) as ws:
        for token in ws.endpoints.tokens.list():
            ws.endpoints.tokens.revoke(token.id)
        live = start_gateway(ws)
        try:
            with live.client() as client:
                assert client.get("/api/endpoints").status_code == 200
        finally:
            live.stop()


def _poll(client: httpx.Client, status: int) -> httpx.Response:
    """The gateway picks token changes up with its poll of the store."""
    deadline = time.monotonic() + 10
    while (response := client.get("/api/endpoints")).status_code != status:
        assert time.monotonic() < deadline, f"never {status}: {response.status_code}"
        time.sleep(0.05)
    return response
