"""The dashboard's ASGI app: routes from the page catalog, assets, and the error pages.

``create_ui_app`` builds the app that the gateway mounts at ``/ui``;
``standalone_app`` wraps it for ``modelyard ui`` (the same ``/ui`` URLs, ``/``
redirecting there). Every asset comes from the installed packages (no CDN): the
dashboard's own CSS and JavaScript, and Plotly's ``plotly.min.js`` from the
``plotly`` package, served once per browser as a cached file rather than inlined
in each page.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from modelyard.errors import InvalidInputError, ModelyardError, NotFoundError
from modelyard.ui._auth import LoginRequiredError, UiAuth
from modelyard.ui._catalog import PAGES
from modelyard.ui._context import PageRequest, UiContext
from modelyard.ui._pages import Page

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from modelyard.workspace import Workspace

__all__ = ["MOUNT_PATH", "create_ui_app", "standalone_app"]

MOUNT_PATH = "/ui"
_ASSETS = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
}
_MAX_FORM_BYTES = 64 * 1024


def create_ui_app(
    workspace: Workspace,
    *,
    pages: Iterable[Page] = (),
    metrics: CollectorRegistry | None = None,
) -> Starlette:
    """The dashboard for ``workspace``: the catalog's pages and ``pages``.

    Its lifespan's startup does what the first visitor would otherwise wait for
    (see :func:`_warm`), when the server runs it: ``modelyard ui`` does; a host
    that mounts the dashboard runs it through ``app.router.lifespan_context``.

    Args:
        workspace: the open workspace the pages read (not closed by the app).
        pages: more pages, after the catalog's (a capability's own).
        metrics: the gateway's Prometheus registry, for live traffic figures.
    """
    from modelyard.serving import TokenStore

    every = [*PAGES, *pages]
    ui = UiContext(workspace, every, UiAuth(TokenStore(workspace.metadata)), metrics)
    routes = [Route(page.path, _endpoint(page, ui), methods=list(page.methods)) for page in every]
    routes.append(Route("/static/{name}", _asset, methods=["GET"]))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(_warm, ui)
        yield

    return Starlette(routes=routes, lifespan=lifespan)


def standalone_app(workspace: Workspace) -> Any:
    """``modelyard ui``: the dashboard at ``/ui``, and ``/`` sending the browser there.

    Behind the gateway's ``Host`` check, as in the gateway: a page of another site
    re-pointing its name at this machine (DNS rebinding) cannot read the dashboard.
    """
    from modelyard.serving._origin import OriginGuard

    async def home(_: Request) -> Response:
        return RedirectResponse(MOUNT_PATH + "/", status_code=307)

    dashboard = create_ui_app(workspace)
    app = Starlette(
        routes=[Route("/", home), Mount(MOUNT_PATH, app=dashboard)],
        lifespan=dashboard.router.lifespan_context,
    )
    return OriginGuard(app, workspace.settings.allowed_hosts, ())


def _warm(ui: UiContext) -> None:
    """What the first request would otherwise wait for (mostly imports), run on the
    thread pool the pages run on (which that starts): every
    template compiled, the stores the pages read opened (a store's first use imports
    its package; the runs' pulls in pandas and pyarrow), and the lookups pages make
    before their first byte (the ORM configures its mappers, the pool opens a
    connection, each statement is compiled once: ~1 ms each the first time)."""
    for name in ui.templates.list_templates():
        ui.templates.get_template(name)
    workspace = ui.workspace
    _ = (workspace.runs, workspace.models, workspace.datasets, workspace.jobs, workspace.endpoints)
    ui.auth.reading_needs_login()
    workspace.runs.experiments()
    workspace.models.exists("")


def _endpoint(page: Page, ui: UiContext) -> Any:
    async def endpoint(request: Request) -> Response:
        form: dict[str, str] = {}
        if page.is_action:
            form = await _form(request)
        page_request = PageRequest(request, ui, page, form)
        return await run_in_threadpool(_answer, page_request)

    return endpoint


def _answer(page_request: PageRequest) -> Response:
    """Check who asks, run the handler, and turn a modelyard error into its page."""
    page, ui, request = page_request.page, page_request.ui, page_request.request
    try:
        if page.is_action:
            ui.auth.check_csrf(request, page_request.form)
        if page.is_action and not page.open:
            page_request.actor = ui.auth.check_change(request)
        elif not page.open:
            ui.auth.check_read(request)
        return page.handler(page_request)
    except LoginRequiredError as error:
        return page_request.render(
            "login.html",
            title="Log in",
            message=error.message,
            next=request.url.path,
            status=401,
        )
    except ModelyardError as error:
        return _error_page(page_request, error)


def _error_page(page_request: PageRequest, error: ModelyardError) -> Response:
    if isinstance(error, NotFoundError):
        heading, status = "Not found", 404
    elif isinstance(error, InvalidInputError):
        heading, status = "Bad request", 400
    elif error.http_status < 500:
        heading, status = "Refused", error.http_status
    else:
        heading, status = "Error", error.http_status
    back = page_request.base + "/" + page_request.page.path.strip("/").split("/")[0]
    return page_request.render(
        "error.html",
        title=heading,
        message=error.message,
        back=back.rstrip("/") or page_request.base + "/",
        login_prompt=status in (401, 403),
        status=status,
    )


async def _form(request: Request) -> dict[str, str]:
    """A posted URL-encoded form (the dashboard's forms send nothing else)."""
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        return {}
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return dict(pairs)


async def _asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name == "plotly.min.js":
        text, etag = _plotly()
        media = "text/javascript; charset=utf-8"
    elif name in _ASSETS:
        text = (files("modelyard.ui") / "static" / name).read_text("utf-8")
        etag, media = hashlib.sha256(text.encode()).hexdigest()[:16], _ASSETS[name]
    else:
        return Response("no such asset", status_code=404, media_type="text/plain")
    headers = {"etag": f'"{etag}"', "cache-control": "public, max-age=3600"}
    if request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304, headers=headers)
    return Response(text, media_type=media, headers=headers)


@cache
def _plotly() -> tuple[str, str]:
    """Plotly's bundle from the installed ``plotly`` package, read once."""
    from modelyard._imports import require

    require("the dashboard's charts", "plotly")
    import plotly
    from plotly.offline import get_plotlyjs

    return get_plotlyjs(), f"plotly-{plotly.__version__}"
