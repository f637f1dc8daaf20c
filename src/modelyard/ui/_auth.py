"""Who may change what from the dashboard: an admin login and a CSRF token per change.

Reading is open while the workspace has no API token (a laptop); once it has one,
every page needs a login with any of its tokens. A change (approve, move an alias,
roll back, cancel) always needs a login with an **admin** token of the gateway's
:class:`~modelyard.serving.TokenStore`, checked against the stored hashes at each
change (a revoked token stops working at once), and the form's CSRF token.

The login is kept server-side: the browser holds a random session id in an
HttpOnly, SameSite=Strict cookie, never the token. The CSRF token is a double
submit: a random value in a cookie that the page also renders into each form; a
page of another site can make the browser send the cookie but cannot read it to
fill the form field.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelyard.errors import ModelyardError
from modelyard.serving._tokens import hash_token

if TYPE_CHECKING:
    from starlette.requests import Request

    from modelyard.serving import TokenStore

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "CsrfError",
    "LoginRequiredError",
    "Session",
    "UiAuth",
]

SESSION_COOKIE = "modelyard_session"
CSRF_COOKIE = "modelyard_csrf"
_MAX_SESSIONS = 1000


class LoginRequiredError(ModelyardError):
    """No login, or one whose token was revoked (HTTP 401: the login form)."""

    exit_code = 9
    http_status = 401


class AdminRequiredError(ModelyardError):
    """Logged in with a token that may not make changes (HTTP 403)."""

    exit_code = 9
    http_status = 403


class CsrfError(ModelyardError):
    """A change whose form lacks the page's CSRF token (HTTP 403)."""

    exit_code = 9
    http_status = 403


@dataclass(frozen=True)
class Session:
    """A login: which token (by its hash) and the name it was created with."""

    token_hash: str
    name: str


class UiAuth:
    """Logins of one dashboard process (kept in memory: a restart logs everyone out)."""

    def __init__(self, tokens: TokenStore) -> None:
        self._tokens = tokens
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def login(self, token: str) -> tuple[str, Session]:
        """Open a session for ``token``: its id (for the cookie) and record.

        Raises:
            LoginRequiredError: the workspace knows no such token.
        """
        digest = hash_token(token.strip())
        if digest not in self._tokens.scopes():
            raise LoginRequiredError(
                "unknown API token: paste a token from `modelyard token create`"
            )
        prefix = token.strip()[:10]
        names = [info.name for info in self._tokens.list() if info.prefix == prefix]
        session = Session(digest, names[0] if names else "token")
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[session_id] = session
            while len(self._sessions) > _MAX_SESSIONS:
                self._sessions.popitem(last=False)
        return session_id, session

    def logout(self, request: Request) -> None:
        """Forget the request's session."""
        with self._lock:
            self._sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)

    def current(self, request: Request) -> tuple[Session, str] | None:
        """The request's login and its token's scope, if it has one still valid."""
        with self._lock:
            session = self._sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            return None
        scope = self._tokens.scopes().get(session.token_hash)
        return None if scope is None else (session, scope)

    def reading_needs_login(self) -> bool:
        """Whether the workspace has any token (then every page needs a login)."""
        bearer, sigv4 = self._tokens.credentials()
        return bool(bearer or sigv4)

    def check_read(self, request: Request) -> None:
        """Allow reading, or raise :class:`LoginRequiredError`."""
        if self.reading_needs_login() and self.current(request) is None:
            raise LoginRequiredError("this workspace has API tokens: log in to read it")

    def check_csrf(self, request: Request, form: dict[str, str]) -> None:
        """Allow a posted form that carries the page's CSRF token, or raise
        :class:`CsrfError` (403)."""
        cookie = request.cookies.get(CSRF_COOKIE, "")
        sent = form.get("csrf", "")
        if not cookie or not secrets.compare_digest(cookie.encode(), sent.encode()):
            raise CsrfError("this change lacks the page's CSRF token: reload the page and retry")

    def check_change(self, request: Request) -> str:
        """Allow a change and name who makes it (``ui:TOKEN NAME``), or raise.

        Raises:
            LoginRequiredError: no login (or its token was revoked).
            AdminRequiredError: the token may only invoke.
        """
        current = self.current(request)
        if current is None:
            raise LoginRequiredError("changes need a login with an admin token")
        session, scope = current
        if scope != "admin":
            raise AdminRequiredError(
                "changes need an admin token; this login's token may only invoke"
            )
        return f"ui:{session.name}"


def new_csrf_token() -> str:
    """A fresh CSRF token for a browser that has none."""
    return secrets.token_urlsafe(32)
