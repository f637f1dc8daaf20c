"""Who may change what, over real HTTP (httpx against uvicorn on a loopback port):
every change refused without an admin login, or without its CSRF token; reading
open only while the workspace has no token; nothing secret in a page."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from modelyard.registry import ApprovalStatus
from modelyard.workspace import Workspace
from tests.ui.conftest import LiveUi, Seeded, serve

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(client: httpx.Client, path: str) -> str:
    """Open a page as a browser would: its form's CSRF token (the cookie is kept)."""
    page = client.get(path)
    found = CSRF.search(page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


@contextmanager
def logged_in(live_ui: LiveUi, token: str) -> Iterator[httpx.Client]:
    with live_ui.client() as client:
        csrf = csrf_of(client, "/ui/login")
        answer = client.post("/ui/login", data={"csrf": csrf, "token": token, "next": "/ui/"})
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/"
        yield client


def changes(seeded: Seeded) -> list[tuple[str, dict[str, str]]]:
    """Every change the dashboard offers, with a form that would otherwise be valid."""
    return [
        ("/ui/models/churn/2/status", {"status": "rejected", "reason": "x"}),
        ("/ui/models/churn/2/alias", {"alias": "intruder"}),
        ("/ui/endpoints/churn-live/rollback", {"to": "1"}),
        (f"/ui/jobs/{seeded.job_id}/cancel", {}),
    ]


def state_of(seeded: Seeded) -> tuple[object, ...]:
    ws = seeded.workspace
    return (
        ws.models.get("churn:2").status,
        ws.models.get("churn:2").aliases,
        ws.endpoints.get("churn-live").config_version,
        ws.jobs.get(seeded.job_id).status,
    )


def test_every_change_without_a_login_is_refused(live_ui: LiveUi, seeded: Seeded) -> None:
    before = state_of(seeded)
    with live_ui.client() as client:
        csrf = csrf_of(client, "/ui/login")
        for path, form in changes(seeded):
            answer = client.post(path, data={**form, "csrf": csrf})
            assert answer.status_code == 401, path
            assert 'id="token"' in answer.text  # the login prompt
    assert state_of(seeded) == before


def test_every_change_with_an_invoke_token_is_refused(live_ui: LiveUi, seeded: Seeded) -> None:
    before = state_of(seeded)
    with logged_in(live_ui, seeded.invoke_token) as client:
        csrf = csrf_of(client, "/ui/")
        for path, form in changes(seeded):
            answer = client.post(path, data={**form, "csrf": csrf})
            assert answer.status_code == 403, path
            assert "needs an admin token" in answer.text.replace("changes need", "needs")
    assert state_of(seeded) == before


def test_a_change_without_its_csrf_token_is_refused(live_ui: LiveUi, seeded: Seeded) -> None:
    before = state_of(seeded)
    with logged_in(live_ui, seeded.admin_token) as client:
        real = csrf_of(client, "/ui/")
        for path, form in changes(seeded):
            for sent in ({}, {"csrf": "forged"}, {"csrf": real[:-1]}):
                answer = client.post(path, data={**form, **sent})
                assert answer.status_code == 403, (path, sent)
                assert "CSRF token" in answer.text
        # the form's token without the cookie (another site's page cannot send it)
        client.cookies.delete("modelyard_csrf")
        answer = client.post(changes(seeded)[0][0], data={**changes(seeded)[0][1], "csrf": real})
        assert answer.status_code == 403
    assert state_of(seeded) == before


def test_an_admin_login_with_csrf_changes_and_logout_ends_it(
    live_ui: LiveUi, seeded: Seeded
) -> None:
    registry = seeded.workspace.models
    with logged_in(live_ui, seeded.admin_token) as client:
        csrf = csrf_of(client, "/ui/models/churn/2")
        answer = client.post(
            "/ui/models/churn/2/alias", data={"csrf": csrf, "alias": "staging-http"}
        )
        assert answer.status_code == 303
        assert "staging-http" in registry.get("churn:2").aliases
        answer = client.post("/ui/models/churn/2/alias", data={"csrf": csrf, "alias": "bad alias"})
        assert answer.status_code == 400 and "invalid alias" in answer.text
        assert client.post("/ui/logout", data={"csrf": csrf}).status_code == 303
        answer = client.post("/ui/models/churn/2/alias", data={"csrf": csrf, "alias": "again"})
        assert answer.status_code == 401
    assert "again" not in registry.get("churn:2").aliases


def test_a_wrong_token_and_an_open_redirect_are_refused(live_ui: LiveUi) -> None:
    with live_ui.client() as client:
        csrf = csrf_of(client, "/ui/login")
        answer = client.post("/ui/login", data={"csrf": csrf, "token": "myd_wrong"})
        assert answer.status_code == 401 and "unknown API token" in answer.text
        assert "modelyard_session" not in client.cookies
    with live_ui.client() as client:
        csrf = csrf_of(client, "/ui/login")
        answer = client.post("/ui/login", data={"csrf": csrf, "token": "x", "next": "/ui/"})
        assert answer.status_code == 401


def test_reading_needs_a_login_once_the_workspace_has_tokens(
    live_ui: LiveUi, seeded: Seeded
) -> None:
    with live_ui.client() as client:
        for path in ("/ui/", "/ui/runs", "/ui/models/churn/1", "/ui/endpoints/churn-live"):
            answer = client.get(path)
            assert answer.status_code == 401 and 'id="token"' in answer.text, path
    with logged_in(live_ui, seeded.invoke_token) as client:
        assert client.get("/ui/models/churn/1").status_code == 200


def test_bad_input_is_a_4xx_page(live_ui: LiveUi, seeded: Seeded) -> None:
    with logged_in(live_ui, seeded.admin_token) as client:
        for path, says in [
            ("/ui/models/nope", "model nope not found"),
            ("/ui/models/churn/99", "not found"),
            ("/ui/datasets/nope", "dataset 'nope' not found"),
            ("/ui/runs/ffffffff", "run ffffffff not found"),
            ("/ui/endpoints/nope", "nope"),
            ("/ui/jobs/ffffffff", "not found"),
        ]:
            answer = client.get(path)
            assert answer.status_code == 404 and says in html.unescape(answer.text), path
            assert 'id="back"' in answer.text
        answer = client.get("/ui/runs", params={"filter": "metrics.auc > 'x'"})
        assert answer.status_code == 400
        assert 'id="filter-error"' in answer.text
        assert "compare it with a number" in html.unescape(answer.text)
        answer = client.get("/ui/runs", params={"offset": "-3"})
        assert answer.status_code == 400 and "offset" in answer.text
        answer = client.get("/ui/runs/compare", params={"run": seeded.run_ids[0]})
        assert answer.status_code == 400 and "select 2 to 10 runs" in answer.text


@pytest.fixture
def open_workspace(tmp_path: Path, postgres_url: str) -> Iterator[tuple[LiveUi, str]]:
    """A token-less workspace whose database URL carries a password."""
    password = "s3cret-pw"
    url = postgres_url.replace("postgres@", f"postgres:{password}@", 1)
    ws = Workspace.init(tmp_path / "ws", database_url=url)
    with ws.start_run("e") as run:
        run.log_metrics({"auc": 0.5})
    from modelyard.ui import standalone_app

    live = serve(standalone_app(ws), "/ui/login")
    yield live, password
    live.stop()
    ws.close()


@pytest.mark.postgres
def test_an_open_workspace_reads_without_login_and_hides_its_password(
    open_workspace: tuple[LiveUi, str],
) -> None:
    live, password = open_workspace
    with live.client() as client:
        for path in ("/ui/", "/ui/runs", "/ui/models", "/ui/datasets", "/ui/endpoints", "/ui/jobs"):
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert password not in answer.text
        assert "postgresql+psycopg://postgres:***@" in client.get("/ui/").text
        # still no change without an admin login, even with no token in the workspace
        csrf = csrf_of(client, "/ui/login")
        answer = client.post("/ui/endpoints/x/rollback", data={"csrf": csrf})
        assert answer.status_code == 401


def test_status_change_through_http_is_recorded(live_ui: LiveUi, seeded: Seeded) -> None:
    with logged_in(live_ui, seeded.admin_token) as client:
        csrf = csrf_of(client, "/ui/models/churn/2")
        answer = client.post("/ui/models/churn/2/status", data={"csrf": csrf, "status": "maybe"})
        assert answer.status_code == 400 and "use approved or rejected" in answer.text
    assert seeded.workspace.models.get("churn:2").status is not ApprovalStatus.REJECTED


def test_the_jobs_table_refreshes_and_an_admin_cancels(live_ui: LiveUi, seeded: Seeded) -> None:
    jobs = seeded.workspace.jobs
    extra = jobs.create("batch-transform", {"model": "churn:1"}, [("p0", {}), ("p1", {})])
    with logged_in(live_ui, seeded.admin_token) as client:
        page = client.get("/ui/jobs")
        assert 'data-poll="/ui/jobs/live"' in page.text and extra.id[:8] in page.text
        live = client.get("/ui/jobs/live")
        assert live.status_code == 200 and "<html" not in live.text
        assert f'{extra.id[:8]}</a></td><td>batch-transform</td><td class="status-pending">' in (
            live.text
        )
        csrf = csrf_of(client, f"/ui/jobs/{extra.id}")
        answer = client.post(f"/ui/jobs/{extra.id}/cancel", data={"csrf": csrf})
        assert answer.status_code == 303
        assert jobs.get(extra.id).status.value == "cancelled"
        assert 'class="status-cancelled">cancelled' in client.get("/ui/jobs/live").text


def test_a_rebound_host_name_is_refused(live_ui: LiveUi) -> None:
    with live_ui.client() as client:
        answer = client.get("/ui/login", headers={"host": "attacker.example"})
        assert answer.status_code == 400
        assert client.get("/ui/login", headers={"host": "localhost"}).status_code == 200


def test_a_revoked_token_logs_out_at_its_next_request(live_ui: LiveUi, seeded: Seeded) -> None:
    from modelyard.serving import TokenStore

    tokens = TokenStore(seeded.workspace.metadata)
    info, secret = tokens.create("short-lived", "admin")
    with logged_in(live_ui, secret) as client:
        csrf = csrf_of(client, "/ui/models/churn/2")
        assert "short-lived" in client.get("/ui/").text
        tokens.revoke(info.id)
        answer = client.post("/ui/models/churn/2/alias", data={"csrf": csrf, "alias": "late"})
        assert answer.status_code == 401
    assert "late" not in seeded.workspace.models.get("churn:2").aliases
