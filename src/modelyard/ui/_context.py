"""What a page handler gets: the request, the dashboard's shared parts, and rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from modelyard.errors import InvalidInputError
from modelyard.ui._auth import CSRF_COOKIE, UiAuth, new_csrf_token

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from starlette.requests import Request

    from modelyard.ui._pages import Page
    from modelyard.workspace import Workspace

__all__ = ["PageRequest", "UiContext"]


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
        self, template: str, *, title: str, cli: str | None = None, status: int = 200, **values: Any
    ) -> Response:
        """A page from ``template`` inside the layout, with the CSRF cookie set."""
        csrf = self.request.cookies.get(CSRF_COOKIE) or new_csrf_token()
        login = self.ui.auth.current(self.request)
        html = self.ui.templates.get_template(template).render(
            base=self.base,
            nav=self.ui.navigation,
            current=self.page.name,
            title=title,
            cli=cli,
            csrf=csrf,
            login=login[0].name if login else None,
            url=self.url,
            **values,
        )
        response = HTMLResponse(html, status_code=status)
        _no_frames(response)
        if self.request.cookies.get(CSRF_COOKIE) != csrf:
            response.set_cookie(
                CSRF_COOKIE, csrf, httponly=True, samesite="strict", path=self.base or "/"
            )
        return response

    def redirect(self, path: str, **query: Any) -> Response:
        """After a change: see the changed page (303, so a reload does not repeat it)."""
        return RedirectResponse(self.url(path, **query), status_code=303)


def _no_frames(response: Response) -> None:
    """No other site may frame the dashboard (clickjacking of its buttons)."""
    response.headers["x-frame-options"] = "DENY"
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["referrer-policy"] = "same-origin"
