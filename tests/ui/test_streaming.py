"""A page whose query runs after the layout's top is sent (``PageRequest.render(later=)``),
over real HTTP: the top arrives while the query is still running, bad input is still
a 4xx page (checked before the first byte), and an error during the query is shown in
the page."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Mount

from modelyard.errors import NotFoundError
from modelyard.ui import Page, PageRequest, create_ui_app
from modelyard.workspace import Workspace
from tests.ui.conftest import LiveUi, Seeded, serve
from tests.ui.test_auth import logged_in

_RELEASE = threading.Event()


def _slow(page: PageRequest) -> Response:
    def later() -> dict[str, object]:
        assert _RELEASE.wait(30), "the test never read the layout's top"
        return {"message": "the answer of the query", "back": page.base + "/"}

    return page.render("error.html", title="Slow", later=later)


def _gone(page: PageRequest) -> Response:
    def later() -> dict[str, object]:
        raise NotFoundError("model gone was deleted meanwhile")

    return page.render("error.html", title="Gone", later=later)


@pytest.fixture
def plugged(workspace: Workspace) -> Iterator[LiveUi]:
    pages = [Page("slow", "/slow", _slow), Page("gone", "/gone", _gone)]
    app = Starlette(routes=[Mount("/ui", app=create_ui_app(workspace, pages=pages))])
    live = serve(app, "/ui/login")
    yield live
    live.stop()


def test_the_layouts_top_arrives_before_the_query_ends(plugged: LiveUi) -> None:
    _RELEASE.clear()
    with (
        httpx.Client(base_url=plugged.url, timeout=30) as client,
        client.stream("GET", "/ui/slow") as answer,
    ):
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "modelyard_csrf" in answer.headers["set-cookie"]
        received = b""
        parts = answer.iter_raw()
        while b"<h1>Slow</h1>" not in received:
            received += next(parts)
        assert b'href="/ui/static/dashboard.css"' in received
        assert b"the answer of the query" not in received
        _RELEASE.set()
        received += b"".join(parts)
    page = received.decode()
    assert "the answer of the query" in page and page.rstrip().endswith("</html>")


def test_an_error_during_the_query_is_shown_in_the_page(plugged: LiveUi) -> None:
    with httpx.Client(base_url=plugged.url, timeout=30) as client:
        answer = client.get("/ui/gone")
    assert answer.status_code == 200  # the first byte had committed the status
    assert "<h1>Gone</h1>" in answer.text
    assert 'id="message">model gone was deleted meanwhile' in answer.text
    assert 'id="back"' in answer.text and answer.text.rstrip().endswith("</html>")


def test_the_streamed_pages_refuse_bad_input_before_the_first_byte(
    live_ui: LiveUi, seeded: Seeded
) -> None:
    with logged_in(live_ui, seeded.invoke_token) as client:
        for path, status, says in [
            ("/ui/runs?experiment=nope", 404, "experiment 'nope' not found"),
            ("/ui/runs?experiment=sweep&filter=metrics.auc+>+'x'", 400, "compare it with a number"),
            ("/ui/runs?experiment=sweep&order=bogus", 400, "unknown field 'bogus'"),
            ("/ui/runs?experiment=sweep&offset=x", 400, "offset"),
            ("/ui/models/nope", 404, "model nope not found"),
            ("/ui/models/churn?offset=-1", 400, "offset"),
        ]:
            answer = client.get(path)
            assert answer.status_code == status, path
            assert says in html.unescape(answer.text), (path, answer.text[-800:])
            assert answer.text.rstrip().endswith("</html>"), path
        for path, shows in [
            ("/ui/runs?experiment=sweep", "sweep-2"),
            ("/ui/models/churn", 'href="/ui/models/churn/2"'),
        ]:
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert answer.headers.get("transfer-encoding") == "chunked", path
            assert shows in answer.text and answer.text.rstrip().endswith("</html>"), path


def test_a_model_page_shows_each_versions_metrics_to_four_digits(
    live_ui: LiveUi, seeded: Seeded
) -> None:
    versions = seeded.workspace.models.list_versions("churn")
    numbers = {
        key
        for version in versions
        for key, value in version.metrics.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }
    keys = sorted(numbers)[:12]
    assert keys
    with logged_in(live_ui, seeded.invoke_token) as client:
        page = client.get("/ui/models/churn").text
    assert re.findall(r'<th class="metric">([^<]*)</th>', page) == keys
    for version in versions:
        row = re.search(rf">{version.ref}</a></td>(.*?)</tr>", page, re.S)
        assert row is not None, version.ref
        shown = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
        metrics = version.metrics
        assert shown == [format(metrics[k], ".4g") if k in metrics else "" for k in keys]
