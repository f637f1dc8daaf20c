"""API tokens: once a workspace has any, invocation needs invoke or admin, management admin."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from modelyard.serving import VariantConfig
from tests.serving.conftest import LiveGateway, wait_served


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
