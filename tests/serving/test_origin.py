"""DNS rebinding and cross-site requests against a gateway without tokens, over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelyard.serving import GatewayOptions, VariantConfig
from modelyard.workspace import Workspace
from tests.serving.conftest import LiveGateway, start_gateway, wait_served


def test_a_host_the_gateway_does_not_answer_to_is_refused(
    gateway_factory: Callable[..., LiveGateway],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
) -> None:
    live = gateway_factory()
    live.workspace.endpoints.create(endpoint_name, [VariantConfig("a", "churn:1")])
    wait_served(live, endpoint_name, 1)
    port = live.url.rsplit(":", 1)[1]
    invoke = f"/endpoints/{endpoint_name}/invocations"
    with live.client() as client:
        for host in ("attacker.example", f"attacker.example:{port}", "127.0.0.1.nip.io"):
            for method, path, body in (
                ("GET", "/ping", None),
                ("GET", "/api/endpoints", None),
                ("POST", invoke, churn_rows[0]),
            ):
                refused = client.request(method, path, json=body, headers={"host": host})
                assert refused.status_code == 400, (host, path)
                error = refused.json()["error"]
                assert error["type"] == "HostNotAllowedError" and host in error["message"]
                assert "allowed_hosts" in error["message"]
        for host in (f"localhost:{port}", "LOCALHOST", f"127.0.0.1:{port}", "[::1]:80", "10.1.2.3"):
            assert client.get("/api/endpoints", headers={"host": host}).status_code == 200
            answered = client.post(invoke, json=churn_rows[0], headers={"host": host})
            assert answered.status_code == 200


def test_allowed_hosts_of_the_workspace_are_answered(churn_workspace: Path) -> None:
    with Workspace.open(churn_workspace, allowed_hosts=["gateway.internal"]) as ws:
        live = start_gateway(ws, GatewayOptions(access_log=False, allowed_hosts=("bound.host",)))
        try:
            with live.client() as client:
                for host in ("gateway.internal", "GATEWAY.internal:8080", "bound.host"):
                    assert client.get("/ping", headers={"host": host}).status_code == 200
                assert client.get("/ping", headers={"host": "other.internal"}).status_code == 400
        finally:
            live.stop()


def test_a_cross_site_change_to_the_management_api_is_refused(
    gateway_factory: Callable[..., LiveGateway], endpoint_name: str
) -> None:
    """A page on another site rolled an endpoint back with a form (issue 16 finding 6)."""
    live = gateway_factory(
        GatewayOptions(access_log=False, poll_interval=0.2, cors_origins=("https://ops.example",))
    )
    store = live.workspace.endpoints
    store.create(endpoint_name, [VariantConfig("a", "churn:1")])
    store.update(endpoint_name, variants=[VariantConfig("a", "churn:2")])
    wait_served(live, endpoint_name, 2)
    rollback = f"/api/endpoints/{endpoint_name}/rollback"
    evil = "https://attacker.example"
    with live.client() as client:
        # what a form or a no-cors fetch on another site sends
        attempts = [
            {"origin": evil, "content-type": "application/x-www-form-urlencoded"},
            {"origin": evil},
            {"origin": "null"},  # a sandboxed frame
            {"referer": f"{evil}/page.html"},
            {"content-type": "text/plain"},  # no origin at all, but a form's body type
            {"content-type": "multipart/form-data; boundary=x"},
        ]
        for headers in attempts:
            refused = client.post(rollback, headers=headers, content=b"to=1")
            assert refused.status_code in (403, 415), headers
            assert refused.json()["error"]["type"] in ("ForbiddenError", "UnsupportedMediaError")
        deleted = client.delete(f"/api/endpoints/{endpoint_name}", headers={"origin": evil})
        assert deleted.status_code == 403
        assert store.get(endpoint_name).config_version == 2  # nothing changed
        assert client.get(f"/api/endpoints/{endpoint_name}", headers={"origin": evil}).is_success
        # the gateway's own pages, an allowed origin, and clients that are not browsers
        for headers in (
            {"origin": live.url},
            {"origin": "https://ops.example", "content-type": "application/json"},
            {"referer": f"{live.url}/docs"},
            {},
        ):
            assert client.post(rollback, headers=headers).status_code == 200, headers
    assert store.get(endpoint_name).config_version == 6
