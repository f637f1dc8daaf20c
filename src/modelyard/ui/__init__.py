"""The web dashboard: server-rendered pages over the SDK (``modelyard ui``, or the
gateway at ``/ui``).

Each page is a :class:`Page` listed in :mod:`modelyard.ui._catalog` (or passed to
:func:`create_ui_app`); a handler parses the request, calls one SDK function and
renders a Jinja2 template. Reading is open while the workspace has no API token;
changes need a login with an admin token and the page's CSRF token.

:func:`dashboard_url` is imported eagerly and imports no web stack: the CLI's
``show`` commands call it to link to a running dashboard's page. The rest is
imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelyard._lazy import lazy_names
from modelyard.ui._address import dashboard_url

if TYPE_CHECKING:
    from modelyard.ui._app import MOUNT_PATH, create_ui_app, standalone_app
    from modelyard.ui._context import PageRequest, UiContext
    from modelyard.ui._pages import Page
    from modelyard.ui._server import serve_ui

__all__ = [
    "MOUNT_PATH",
    "Page",
    "PageRequest",
    "UiContext",
    "create_ui_app",
    "dashboard_url",
    "serve_ui",
    "standalone_app",
]

_LAZY = {
    "MOUNT_PATH": "modelyard.ui._app",
    "create_ui_app": "modelyard.ui._app",
    "standalone_app": "modelyard.ui._app",
    "PageRequest": "modelyard.ui._context",
    "UiContext": "modelyard.ui._context",
    "Page": "modelyard.ui._pages",
    "serve_ui": "modelyard.ui._server",
}

__getattr__, __dir__ = lazy_names(__name__, globals(), _LAZY, __all__)
