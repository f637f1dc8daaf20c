"""The dashboard's Monitors pages, over real HTTP."""

from __future__ import annotations

from datetime import timedelta

from modelyard import datasets
from modelyard.workspace import Workspace
from tests.monitoring.conftest import FIRST_HOUR, capture
from tests.ui.conftest import serve


def test_the_monitors_pages_show_open_violations_and_windows(ws: Workspace, endpoint: str) -> None:
    from modelyard.ui import standalone_app

    capture(ws, endpoint, datasets.churn(300, seed=130), FIRST_HOUR)
    frame = datasets.churn(300, seed=131)
    frame["monthly_charges"] = frame["monthly_charges"] * 1.6
    capture(ws, endpoint, frame, FIRST_HOUR + timedelta(hours=1))
    ws.monitors.create(endpoint)
    ws.monitors.run(endpoint)
    live = serve(standalone_app(ws), "/ui/login")
    try:
        with live.client() as client:
            listing = client.get("/ui/monitors")
            assert listing.status_code == 200
            assert f'href="/ui/monitors/{endpoint}"' in listing.text
            page = client.get(f"/ui/monitors/{endpoint}")
            assert page.status_code == 200
            assert "drift:monthly_charges" in page.text
            assert f"{FIRST_HOUR + timedelta(hours=1):%Y-%m-%dT%H}" in page.text
            assert client.get("/ui/monitors/no-such-monitor").status_code == 404
    finally:
        live.stop()
