"""What a page handler gets: the request, the dashboard's shared parts, and rendering."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, Template, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from modelyard.errors import InvalidInputError, ModelyardError
from modelyard.ui._auth import CSRF_COOKIE, UiAuth, new_csrf_token

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from starlette.requests import Request
    from starlette.types import Receive, Scope, Send

    from modelyard.ui._pages import Page
    from modelyard.workspace import Workspace

__all__ = ["Later", "PageRequest", "UiContext"]

Later = Callable[[], dict[str, Any]]
"""A page's SDK call, made once the layout's top is sent: more values for its template."""


@dataclass
class UiContext:
    """The dashboard's parts shared by every request: built once by ``create_ui_app``.

    ``metrics``: the gateway's Prometheus registry when the dashboard runs inside
    the gateway (live traffic on endpoint pages), ``None`` standalone.
    """

    workspace: Workspace
    pages: list[Page]
    auth: UiAuth
    metrics: CollectorRegistry | None = None
    templates: Environment = field(
        default_factory=lambda: Environment(
            loader=PackageLoader("modelyard.ui", "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
    )

    @property
    def navigation(self) -> list[Page]:
        """Pages listed in the menu, in catalog order."""
        return [page for page in self.pages if page.nav_title is not None]


@dataclass
class PageRequest:
    """One request to a page: what it asked, who asks, and how to answer."""

    request: Request
    ui: UiContext
    page: Page
    form: dict[str, str] = field(default_factory=dict)
    actor: str | None = None

    @property
    def base(self) -> str:
        """The dashboard's URL prefix (``/ui`` in the gateway and standalone)."""
        return str(self.request.scope.get("root_path", "")).rstrip("/")

    def param(self, name: str) -> str:
        """A path parameter."""
        return str(self.request.path_params[name])

    def query(self, name: str, default: str = "") -> str:
        """A query parameter."""
        return self.request.query_params.get(name, default)

    def query_int(self, name: str, default: int, *, low: int = 0, high: int = 10**9) -> int:
        """A whole-number query parameter within ``low..high``.

        Raises:
            InvalidInputError: not a whole number in range.
        """
        text = self.request.query_params.get(name)
        if text is None or text == "":
            return default
        if not text.isdigit() or not low <= int(text) <= high:
            raise InvalidInputError(
                f"query parameter {name}={text!r}: use a whole number from {low} to {high}",
                details={"parameter": name},
            )
        return int(text)

    def url(self, path: str, **query: Any) -> str:
        """A dashboard URL, with the query parameters that are not ``None``."""
        kept = {key: value for key, value in query.items() if value is not None}
        return self.base + path + (f"?{urlencode(kept, doseq=True)}" if kept else "")

    def render(
        self,
        template: str,
        *,
        title: str,
        cli: str | None = None,
        status: int = 200,
        later: Later | None = None,
        **values: Any,
    ) -> Response:
        """A page from ``template`` inside the layout, with the CSRF cookie set.

        ``later``: the page's SDK call, made after the layout's top (head, navigation,
        title) is sent, so the browser fetches the stylesheet while the query runs;
        it returns more values for ``template``. The first byte commits the status,
        so the handler checks whatever it may refuse (bad input, an unknown name)
        before it renders; if ``later`` still raises a modelyard error (the model was
        deleted in between), the page shows the message where its content would be.
        A page without ``later`` is sent in one piece.
        """
        csrf = self.request.cookies.get(CSRF_COOKIE) or new_csrf_token()
        login = self.ui.auth.current(self.request)
        layout = {
            "base": self.base,
            "nav": self.ui.navigation,
            "current": self.page.name,
            "title": title,
            "cli": cli,
            "csrf": csrf,
            "login": login[0].name if login else None,
            "url": self.url,
        }
        templates = self.ui.templates
        top = templates.get_template("top.html").render(layout)
        body = templates.get_template(template)
        response: Response
        if later is None:
            html = top + body.render(layout, **values)
            response = HTMLResponse(html, status_code=status)
        else:
            rest = partial(self._rest, body, {**layout, **values}, later)
            response = _TopFirst(top, rest, status)
        return self._guarded(response, csrf)

    def fragment(self, template: str, **values: Any) -> Response:
        """A part of a page without the layout (what a page fetches to refresh a table)."""
        csrf = self.request.cookies.get(CSRF_COOKIE) or new_csrf_token()
        html = self.ui.templates.get_template(template).render(
            base=self.base, csrf=csrf, url=self.url, **values
        )
        return self._guarded(HTMLResponse(html), csrf)

    def _guarded(self, response: Response, csrf: str) -> Response:
        """``response`` with the headers every page carries, and the CSRF cookie set."""
        _no_frames(response)
        if self.request.cookies.get(CSRF_COOKIE) != csrf:
            response.set_cookie(
                CSRF_COOKIE, csrf, httponly=True, samesite="strict", path=self.base or "/"
            )
        return response

    def _rest(self, body: Template, values: dict[str, Any], later: Later) -> str:
        try:
            more = later()
        except ModelyardError as error:
            failed = self.ui.templates.get_template("error.html")
            return failed.render(values, message=error.message, back=self.base + "/")
        return body.render(values, **more)

    def redirect(self, path: str, **query: Any) -> Response:
        """After a change: see the changed page (303, so a reload does not repeat it)."""
        return RedirectResponse(self.url(path, **query), status_code=303)


class _TopFirst(Response):
    """A page in two parts: the status and the layout's top at once, then the rest,
    made on the thread pool (the page's SDK call blocks on the database).

    Starlette's ``StreamingResponse`` would send the same, but it first starts a task
    group that listens for the client leaving (~25 µs before the first byte); a page
    made in one call after its top has nothing to stop early, and a client that left
    is one the server no longer writes to.
    """

    media_type = "text/html"

    def __init__(self, top: str, rest: Callable[[], str], status_code: int) -> None:
        self.status_code = status_code
        self.background = None
        self._top = top.encode(self.charset)
        self._rest = rest
        self.init_headers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": self._top, "more_body": True})
        rest = await run_in_threadpool(self._rest)
        await send({"type": "http.response.body", "body": rest.encode(self.charset)})


def _no_frames(response: Response) -> None:
    """No other site may frame the dashboard (clickjacking of its buttons)."""
    response.headers["x-frame-options"] = "DENY"
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["referrer-policy"] = "same-origin"
