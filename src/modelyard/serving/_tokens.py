"""API tokens of the gateway: created once, shown once, stored only as a SHA-256.

Scopes: ``invoke`` may call endpoints; ``admin`` may also manage them. A workspace
without tokens is open (a laptop); the first token closes it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select

from modelyard.errors import InvalidInputError, NotFoundError
from modelyard.metadata._tables import ApiTokenRow

if TYPE_CHECKING:
    from modelyard.metadata import MetadataStore

__all__ = ["Scope", "TokenInfo", "TokenStore", "hash_token"]

Scope = Literal["invoke", "admin"]
_PREFIX = "myd_"


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """A token's public facts (never the token itself)."""

    id: int
    name: str
    scope: Scope
    prefix: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
        }


class TokenStore:
    """Create, list and revoke API tokens."""

    def __init__(self, metadata: MetadataStore) -> None:
        self._metadata = metadata

    def create(self, name: str, scope: str) -> tuple[TokenInfo, str]:
        """A new token: its facts and the secret (shown once, never stored).

        Raises:
            InvalidInputError: an unknown scope or empty name.
        """
        if scope not in ("invoke", "admin"):
            raise InvalidInputError(
                f"unknown token scope {scope!r}: use invoke or admin", details={"scope": scope}
            )
        if not name.strip():
            raise InvalidInputError("a token needs a name")
        secret = _PREFIX + secrets.token_urlsafe(32)
        with self._metadata.session() as session:
            row = ApiTokenRow(
                name=name.strip(), scope=scope, token_hash=hash_token(secret), prefix=secret[:10]
            )
            session.add(row)
            session.flush()
            return _info(row), secret

    def list(self) -> list[TokenInfo]:
        """Every token, oldest first."""
        with self._metadata.session() as session:
            return [_info(r) for r in session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))]

    def revoke(self, token_id: int) -> None:
        """Delete a token.

        Raises:
            NotFoundError: no such token.
        """
        with self._metadata.session() as session:
            row = session.get(ApiTokenRow, token_id)
            if row is None:
                raise NotFoundError(f"token {token_id} not found")
            session.delete(row)

    def scopes(self) -> dict[str, str]:
        """``{sha256: scope}`` of every token: the gateway's snapshot."""
        with self._metadata.session() as session:
            rows = session.execute(select(ApiTokenRow.token_hash, ApiTokenRow.scope)).all()
            return {digest: scope for digest, scope in rows}


def _info(row: ApiTokenRow) -> TokenInfo:
    scope: Scope = "admin" if row.scope == "admin" else "invoke"
    return TokenInfo(row.id, row.name, scope, row.prefix, row.created_at)
