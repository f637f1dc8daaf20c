"""The one way a page plugs into the dashboard: a :class:`Page` in :data:`PAGES`.

A page is a name, a URL path under the dashboard, a navigation title (``None``: a
page reached by links, not from the menu) and a handler. A handler is a plain
function of a :class:`~modelyard.ui.PageRequest`; it parses the request, calls one
SDK function and renders a template. Handlers are synchronous:
the server runs them on its thread pool, so a database query never blocks the
gateway's event loop when the dashboard is mounted there.

Each capability (profiles, tuning, monitors, pipelines) adds its pages by listing
them in :mod:`modelyard.ui._catalog`, or passes extra pages to
:func:`~modelyard.ui.create_ui_app`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.responses import Response

    from modelyard.ui._context import PageRequest

__all__ = ["Handler", "Page"]

Handler = Callable[["PageRequest"], "Response"]


@dataclass(frozen=True)
class Page:
    """One route of the dashboard.

    ``path`` is relative to the dashboard (``/runs/{run_id}``: Starlette's path
    syntax); ``methods`` ``("POST",)`` marks an action, which the dashboard
    refuses without an admin login and the form's CSRF token before the handler
    runs. ``open``: the login pages, which need no login (a POST still needs its
    CSRF token).
    """

    name: str
    path: str
    handler: Handler
    nav_title: str | None = None
    methods: tuple[str, ...] = ("GET",)
    open: bool = False

    @property
    def is_action(self) -> bool:
        """Whether the page changes something (anything but GET)."""
        return self.methods != ("GET",)
