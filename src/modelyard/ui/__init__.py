"""The web dashboard: server-rendered pages over the SDK (``modelyard ui``, or the
gateway at ``/ui``).

Each page is a :class:`Page` listed in :mod:`modelyard.ui._catalog` (or passed to
:func:`create_ui_app`); a handler parses the request, calls one SDK function and
renders a Jinja2 template. Reading is open while the workspace has no API token;
changes need a login with an admin token and the page's CSRF token.
"""

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
    "serve_ui",
    "standalone_app",
]
