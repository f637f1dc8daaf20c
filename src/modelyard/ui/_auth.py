"""Who may change what from the dashboard: an admin login and a CSRF token per change.

Reading is open while the workspace has no API token (a laptop); once it has one,
every page needs a login with any of its tokens. A change (approve, move an alias,
roll back, cancel) always needs a login with an **admin** token of the gateway's
:class:`~modelyard.serving.TokenStore`, checked against the stored hashes at each
change (a revoked token stops working at once), and the form's CSRF token.

The login cookie holds the token itself, HttpOnly (no script reads it),
SameSite=Strict (no other site's page sends it) and scoped to the dashboard's
path: nothing is kept in the server's memory, so a gateway with several worker
processes answers a logged-in browser from any of them, and a revoked token
stops working at its next request. The CSRF token is a double
submit: a random value in a cookie that the page also renders into each form; a
page of another site can make the browser send the cookie but cannot read it to
fill the form field.
"""

from __future__ import annotations

import secrets
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
    """Logins, checked against the workspace's tokens at every request."""

    def __init__(self, tokens: TokenStore) -> None:
        self._tokens = tokens

    def login(self, token: str) -> tuple[str, Session]:
        """Check ``token``: the value of the login cookie, and the login it opens.

        Raises:
            LoginRequiredError: the workspace knows no such token.
        """
        token = token.strip()
        session = self._session(token)
        if session is None:
            raise LoginRequiredError(
                "unknown API token: paste a token from `modelyard token create`"
            )
        return token, session[0]

    def logout(self, request: Request) -> None:
        """Nothing to forget on the server: the page deletes the login cookie."""

    def current(self, request: Request) -> tuple[Session, str] | None:
        """The request's login and its token's scope, if its token is still valid."""
        return self._session(request.cookies.get(SESSION_COOKIE, ""))

    def _session(self, token: str) -> tuple[Session, str] | None:
        if not token:
            return None
        info = self._tokens.find(token)
        if info is None:
            return None
        return Session(hash_token(token), info.name), info.scope

    def reading_needs_login(self) -> bool:
        """Whether the workspace has any token (then every page needs a login)."""
        return self._tokens.has_tokens()

    def check_read(self, request: Request) -> None:
        """Allow reading, or raise :class:`LoginRequiredError`.

        A valid login answers without asking whether the workspace has tokens; a
        request without a login cookie asks only that (one query either way).
        """
        if self.current(request) is None and self.reading_needs_login():
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
