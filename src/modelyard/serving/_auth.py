"""Bearer-token checks for the gateway, against a snapshot of the stored token hashes.

A workspace without tokens is open. Once it has any, invocation needs an ``invoke``
or ``admin`` token and management an ``admin`` one. Revoking the last admin token
closes management (403) rather than reopening it, unless the workspace's
``open_management`` setting says otherwise. The snapshot is refreshed with
the endpoints (polled from the store), so a new or revoked token takes effect
within a poll interval, and a request costs one SHA-256 and a dict lookup.
SigV4 access keys count as tokens too; their signatures are checked on the
invocation routes by :mod:`modelyard.serving._sigv4` against :attr:`TokenGuard.sigv4`.
"""

from __future__ import annotations

from modelyard.errors import ModelyardError
from modelyard.serving._tokens import SigV4Secret, hash_token

__all__ = ["ForbiddenError", "TokenGuard", "UnauthorizedError"]


class UnauthorizedError(ModelyardError):
    """No API token, or an unknown one (HTTP 401)."""

    exit_code = 9
    http_status = 401


class ForbiddenError(ModelyardError):
    """A token whose scope does not allow the call (HTTP 403)."""

    exit_code = 9
    http_status = 403


class TokenGuard:
    """Checks ``Authorization: Bearer TOKEN`` against ``{sha256: scope}``."""

    def __init__(
        self, scopes: dict[str, str] | None = None, sigv4: dict[str, SigV4Secret] | None = None
    ) -> None:
        self.scopes: dict[str, str] = dict(scopes or {})
        self.sigv4: dict[str, SigV4Secret] = dict(sigv4 or {})
        # the last admin token was revoked and the workspace does not say open_management
        self.management_closed = False

    @property
    def closed(self) -> bool:
        """Whether any token or SigV4 key exists (without any, the gateway is open)."""
        return bool(self.scopes or self.sigv4)

    def check(self, authorization: str | None, scope: str) -> None:
        """Allow the call or raise.

        Raises:
            UnauthorizedError: tokens exist and none (or an unknown one) was sent.
            ForbiddenError: ``scope`` is ``admin`` and the token may only invoke, or
                management was closed by revoking the last admin token.
        """
        if not self.closed:
            if scope == "admin" and self.management_closed:
                raise ForbiddenError(
                    "management is closed: the last admin token of this workspace was "
                    "revoked. Create one (modelyard token create --scope admin), or set "
                    "open_management = true in modelyard.toml to manage without tokens"
                )
            return
        token = ""
        if authorization and authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
        if not token:
            raise UnauthorizedError(
                "this gateway needs an API token: send Authorization: Bearer TOKEN"
            )
        granted = self.scopes.get(hash_token(token))
        if granted is None:
            raise UnauthorizedError("unknown API token")
        if scope == "admin" and granted != "admin":
            raise ForbiddenError("this needs an admin token; the token sent may only invoke")
