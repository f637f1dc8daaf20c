"""``/docs`` renders Swagger UI in a browser that cannot reach the internet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.workspace import Workspace
from tests.browser import OFFLINE, chromium
from tests.serving.conftest import LiveGateway, start_gateway

# What FastAPI's own /docs page loads; the offline browser must fail to fetch it.
CDN_ASSET = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
FETCH = (
    "const done = arguments[arguments.length - 1];"
    "fetch(arguments[0], {mode: 'no-cors'}).then(() => done('reached'), () => done('blocked'));"
)
PATHS = (
    "return Array.from(document.querySelectorAll('.opblock .opblock-summary-path'))"
    ".map(e => e.getAttribute('data-path'));"
)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveGateway]:
    """A gateway on an empty workspace: the docs need no endpoint."""
    with Workspace.init(tmp_path / "ws") as workspace:
        gateway = start_gateway(workspace)
        try:
            yield gateway
        finally:
            gateway.stop()


def test_docs_page_names_only_local_assets(live: LiveGateway) -> None:
    with live.client() as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert "cdn." not in page.text and "https://" not in page.text.split("<body>")[0]
        script = client.get("/docs/assets/swagger-ui-bundle.js")
        assert script.status_code == 200 and "SwaggerUIBundle" in script.text
        assert client.get("/docs/assets/swagger-ui.css").status_code == 200
        assert client.get("/docs/assets/nope.js").status_code == 404
        assert "/docs" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.slow
def test_swagger_ui_renders_with_the_network_blocked(live: LiveGateway) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(OFFLINE) as driver:
        driver.set_script_timeout(30)
        driver.get(f"{live.url}/openapi.json")
        # the block is real: what FastAPI's default page needs cannot be fetched
        assert driver.execute_async_script(FETCH, CDN_ASSET) == "blocked"
        assert driver.execute_async_script(FETCH, f"{live.url}/openapi.json") == "reached"
        driver.get_log("browser")  # drained: the refused fetch above is logged as an error
        driver.get(f"{live.url}/docs")
        WebDriverWait(driver, 60).until(lambda d: len(d.execute_script(PATHS)) > 0)
        shown = set(driver.execute_script(PATHS))
        documented = set(httpx.get(f"{live.url}/openapi.json").json()["paths"])
        assert shown == documented
        assert {"/api/endpoints", "/v2/models/{name}/infer", "/invocations"} <= shown
        loaded = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert loaded and all(url.startswith(f"{live.url}/") for url in loaded), loaded
        severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert severe == [], severe
