"""Where a request comes from: the ``Host`` it names and, for a change, the page that sent it.

A gateway without tokens (the default, on a laptop) trusts whoever can reach it, and
a web page open in the user's browser can reach it in two ways:

- **DNS rebinding**: the page's own name is re-pointed at this machine, so its
  scripts talk to the gateway as if it were their own site. Their requests carry
  ``Host: attacker.example``. Refused (400) unless the ``Host`` is ``localhost``, an
  IP address (an address cannot be rebound), the name the server was started on, or
  one of the workspace's ``allowed_hosts``.
- **Cross-site requests (CSRF)**: a page on another site submits a form, or a
  ``no-cors`` fetch, to the management API: a page rolled an endpoint back that way.
  A change there (``POST``, ``PUT``, ``PATCH``, ``DELETE`` under ``/api/``) is refused
  (403) when its ``Origin`` (or, without one, its ``Referer``) is neither the
  gateway's own nor a ``--cors`` origin, and refused (415) when its body is sent as a
  form (``application/x-www-form-urlencoded``, ``multipart/form-data``,
  ``text/plain``: the types a page may send to another site without asking first).
  Clients that are not browsers send neither header and are not affected.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from modelyard.errors import InvalidInputError, ModelyardError
from modelyard.serving._auth import ForbiddenError
from modelyard.serving._parse import UnsupportedMediaError

__all__ = ["HostNotAllowedError", "OriginGuard"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_LOCAL = frozenset({"localhost"})
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
_MANAGEMENT = "/api/"
_MEMO = 1024  # Host values remembered as allowed


class HostNotAllowedError(InvalidInputError):
    """A ``Host`` header naming a host the gateway does not answer to (HTTP 400)."""

    http_status = 400


class OriginGuard:
    """Pure ASGI middleware: the ``Host`` check on every request, the origin and
    content-type checks on changes to the management API.

    Args:
        app: the gateway app.
        allowed_hosts: host names answered besides localhost and IP addresses.
        trusted_origins: origins (``scheme://host[:port]``) allowed to change the
            management API from a browser besides the gateway's own (its CORS list).
    """

    def __init__(
        self, app: ASGIApp, allowed_hosts: Iterable[str], trusted_origins: Iterable[str]
    ) -> None:
        self.app = app
        self.allowed = frozenset(h.strip().lower().rstrip(".") for h in allowed_hosts) | _LOCAL
        self.origins = frozenset(o.strip().lower().rstrip("/") for o in trusted_origins)
        self._memo: set[bytes] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = b""
        origin = referer = content_type = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"origin":
                origin = value
            elif name == b"referer":
                referer = value
            elif name == b"content-type":
                content_type = value
        error: ModelyardError | None = None
        if host not in self._memo:
            error = self._check_host(host)
        if error is None and scope["method"] in _UNSAFE and scope["path"].startswith(_MANAGEMENT):
            error = self._check_change(host, origin, referer, content_type)
        if error is None:
            await self.app(scope, receive, send)
            return
        await _answer(send, error)

    def _check_host(self, header: bytes) -> ModelyardError | None:
        name = _host_name(header.decode("latin-1"))
        if name is None:  # HTTP/1.0 without a Host, or a raw address: nothing to rebind
            return None
        if name in self.allowed or _is_address(name):
            if len(self._memo) < _MEMO:
                self._memo.add(header)
            return None
        shown = header.decode("latin-1")[:100]
        return HostNotAllowedError(
            f"this gateway does not answer to the host {shown!r}: add it to allowed_hosts "
            "in modelyard.toml (or reach the gateway by localhost or its IP address)",
            details={"host": shown},
        )

    def _check_change(
        self,
        host: bytes,
        origin: bytes | None,
        referer: bytes | None,
        content_type: bytes | None,
    ) -> ModelyardError | None:
        source = origin if origin is not None else referer
        if source is not None:
            text = source.decode("latin-1").strip()
            parts = urlsplit(text)
            sent = f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else text.lower()
            own = parts.netloc.lower() == host.decode("latin-1").lower()
            if not own and sent not in self.origins:
                return ForbiddenError(
                    f"a page at {sent[:100]!r} may not change this gateway: changes come "
                    "from the gateway's own pages, from clients that are not browsers, or "
                    "from an origin allowed with serve --cors",
                    details={"origin": sent[:100]},
                )
        if content_type is not None:
            media = content_type.split(b";", 1)[0].strip().lower().decode("latin-1")
            if media in _FORMS:
                return UnsupportedMediaError(
                    f"the management API reads JSON, not {media}: send application/json",
                    details={"content_type": media},
                )
        return None


def _host_name(header: str) -> str | None:
    """The host part of a ``Host`` value, lower case, without port or trailing dot."""
    header = header.strip().lower()
    if not header:
        return None
    if header.startswith("["):  # [v6 address]:port
        return header[1 : header.find("]")] if "]" in header else header
    name = header.rsplit(":", 1)[0] if header.count(":") == 1 else header
    return name.rstrip(".")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


async def _answer(send: Send, error: ModelyardError) -> None:
    body = json.dumps(error.to_dict()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": error.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
