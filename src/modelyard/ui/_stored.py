"""A self-contained HTML report that modelyard stored (a profile, an evaluation
report, a search's leaderboard or study, a pipeline's DAG), served as it is.

Each runs sandboxed: its own opaque origin, so its scripts draw its charts but
cannot read the dashboard's cookies or act as the logged-in user. The reports name
no icon, and a browser would then ask the server for ``/favicon.ico`` (a 404 in the
console, outside the dashboard's paths); an empty icon is declared instead.
"""

from __future__ import annotations

import re

from starlette.responses import HTMLResponse

__all__ = ["stored_page"]

_HEAD = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)
_ICON = b'<link rel="icon" href="data:,">'


def stored_page(html: bytes | str, *, scripts: bool = True, framed: bool = False) -> HTMLResponse:
    """``html`` with an empty icon, sandboxed (``scripts``: its scripts may run), not
    framed by any page (``framed``: by the dashboard's own pages only)."""
    body = html.encode("utf-8") if isinstance(html, str) else html
    head = _HEAD.search(body, 0, 4096)
    at = 0 if head is None else head.end()
    body = body[:at] + _ICON + body[at:]
    response = HTMLResponse(body)
    sandbox = "sandbox allow-scripts" if scripts else "sandbox"
    if framed:
        response.headers["content-security-policy"] = f"{sandbox}; frame-ancestors 'self'"
        response.headers["x-frame-options"] = "SAMEORIGIN"
    else:
        response.headers["content-security-policy"] = sandbox
        response.headers["x-frame-options"] = "DENY"
    response.headers["x-content-type-options"] = "nosniff"
    return response
