"""The dashboard inside the gateway (/ui): an endpoint's page shows requests arriving,
latency percentiles and error rate per variant, and the requests it captured."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelyard import datasets
from tests.browser import OFFLINE, chromium
from tests.serving.conftest import start_gateway
from tests.ui.conftest import Seeded
from tests.ui.test_browser import login, wait_for

pytestmark = pytest.mark.slow


def test_the_endpoint_page_shows_requests_per_second_rise(
    seeded: Seeded, screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By

    from modelyard.serving import GatewayOptions

    rows = json.loads(
        datasets.churn(20, seed=9)
        .drop(columns=["churned"])
        .to_json(orient="records", date_format="iso")
    )
    seeded.workspace.endpoints.update("churn-live", capture_percent=100)
    live = start_gateway(seeded.workspace, GatewayOptions(access_log=False, poll_interval=0.2))
    headers = {"authorization": f"Bearer {seeded.invoke_token}"}
    stop = threading.Event()
    sent: list[int] = []

    def traffic() -> None:
        with httpx.Client(base_url=live.url, headers=headers, timeout=30) as client:
            deadline = time.monotonic() + 90  # bounded whatever happens to the test
            while not stop.is_set() and time.monotonic() < deadline:
                answer = client.post("/endpoints/churn-live/predict", json=rows[len(sent) % 20])
                sent.append(answer.status_code)
                time.sleep(0.01)

    try:
        with chromium(OFFLINE) as driver:
            login(driver, live.url, seeded.admin_token)
            driver.get(f"{live.url}/ui/endpoints/churn-live")
            rate = driver.find_element(By.CSS_SELECTOR, "#variants tr[data-variant] .rate")
            assert driver.find_element(By.ID, "live").is_displayed()
            # idle: the second reading finds no request
            wait_for(driver, lambda d: rate.text not in ("\u2013", ""))  # the placeholder
            assert float(rate.text) == 0.0
            sender = threading.Thread(target=traffic)
            sender.start()
            try:
                wait_for(driver, lambda d: float(rate.text) > 1.0, timeout=30)
                driver.save_screenshot(str(screenshots / "endpoint-live.png"))
            finally:
                stop.set()
                sender.join()
            latency = driver.find_element(By.CSS_SELECTOR, "#variants tr[data-variant] .latency")
            assert latency.text.endswith(" ms")
            cells = {
                q: driver.find_element(By.CSS_SELECTOR, f"#variants tr[data-variant] .{q}").text
                for q in ("p50", "p95", "p99", "error-rate")
            }
            assert cells["error-rate"] == "0.0%", cells
            p50, p95, p99 = (float(cells[q].removesuffix(" ms")) for q in ("p50", "p95", "p99"))
            assert 0 < p50 <= p95 <= p99 <= 2500, cells

            # the captured requests, newest first, once the writer flushed them
            def captured(d: Any) -> list[Any]:
                d.refresh()
                found: list[Any] = d.find_elements(By.CSS_SELECTOR, "#captured tbody td code.body")
                return found

            bodies = wait_for(driver, captured, timeout=30)
            assert '"tenure_months"' in bodies[0].text, bodies[0].text
            assert len(driver.find_elements(By.CSS_SELECTOR, "#captured tbody tr")) == 20
            driver.save_screenshot(str(screenshots / "endpoint-captured.png"))
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert errors == []
        assert sent and set(sent) == {200}, set(sent)
    finally:
        stop.set()
        live.stop()


def test_the_gateway_serves_the_dashboard_assets(seeded: Seeded) -> None:
    live = start_gateway(seeded.workspace)
    try:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            plotly: Any = client.get("/ui/static/plotly.min.js")
            assert plotly.status_code == 200 and len(plotly.content) > 1_000_000
            again = client.get(
                "/ui/static/plotly.min.js", headers={"if-none-match": plotly.headers["etag"]}
            )
            assert again.status_code == 304
            assert client.get("/ui/static/../../etc/passwd").status_code == 404
            assert client.get("/ui/login").status_code == 200
    finally:
        live.stop()
