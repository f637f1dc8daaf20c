"""API tokens of the gateway: created once, shown once, stored only as a SHA-256.

Scopes: ``invoke`` may call endpoints; ``admin`` may also manage them. A workspace
without tokens is open (a laptop); the first token closes it.

A SigV4 access key (``create(..., sigv4=True)``) is the credential of clients that
sign requests with AWS Signature Version 4 and cannot send a bearer token: boto3's
``sagemaker-runtime``, the SageMaker Python SDK. It is a token of the same list (one
``token list``, one ``token revoke``) whose secret is stored as issued, not hashed:
SigV4 is a keyed HMAC, and checking a signature needs the secret itself, as AWS
keeps it. Encrypting it would need a key the gateway can read beside the database,
which protects nothing against a reader of both; the database (its file mode, its
PostgreSQL role) is what guards these secrets. The secret is shown once at creation
and never listed again. Bearer tokens stay hashed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import bindparam, select

from modelyard.errors import InvalidInputError, NotFoundError
from modelyard.metadata._tables import ApiTokenRow

if TYPE_CHECKING:
    from modelyard.metadata import MetadataStore

__all__ = ["Scope", "SigV4Secret", "TokenInfo", "TokenStore", "hash_token"]

Scope = Literal["invoke", "admin"]
_PREFIX = "myd_"
_KEY_PREFIX = "MYDK"  # SigV4 access key ids: MYDK and 12 capitals or digits
_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_REVOKED = "revoked"  # the kind of a revoked token's row
# Built once: the dashboard asks these before each page's first byte, and building a
# statement costs more than SQLite takes to answer it.
_ANY_TOKEN = select(ApiTokenRow.id).where(ApiTokenRow.kind != _REVOKED).limit(1)
_BEARER_HASHED = select(ApiTokenRow).where(
    ApiTokenRow.token_hash == bindparam("digest"), ApiTokenRow.kind == "bearer"
)


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class SigV4Secret:
    """What the gateway keeps of one SigV4 access key: its secret and the scope it grants."""

    secret: str
    scope: str


@dataclass(frozen=True)
class TokenInfo:
    """A token's public facts (never the token itself)."""

    id: int
    name: str
    scope: Scope
    prefix: str
    created_at: datetime
    kind: Literal["bearer", "sigv4"] = "bearer"

    @property
    def access_key_id(self) -> str | None:
        """A SigV4 key's access key id (public, like AWS's); ``None`` for a bearer token."""
        return self.prefix if self.kind == "sigv4" else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "kind": self.kind,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
        }
        if self.kind == "sigv4":
            data["access_key_id"] = self.prefix
        return data


class TokenStore:
    """Create, list and revoke API tokens."""

    def __init__(self, metadata: MetadataStore) -> None:
        self._metadata = metadata

    def create(self, name: str, scope: str, *, sigv4: bool = False) -> tuple[TokenInfo, str]:
        """A new token: its facts and the secret (shown once; a bearer token's never stored).

        With ``sigv4``, an access key for SigV4-signing clients: its id is the
        info's ``access_key_id``, the returned secret its secret access key.

        Raises:
            InvalidInputError: an unknown scope or empty name.
        """
        if scope not in ("invoke", "admin"):
            raise InvalidInputError(
                f"unknown token scope {scope!r}: use invoke or admin", details={"scope": scope}
            )
        if not name.strip():
            raise InvalidInputError("a token needs a name")
        if sigv4:
            secret = secrets.token_urlsafe(30)  # 40 characters, as AWS's secret keys
            key_id = _KEY_PREFIX + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(12))
            row = ApiTokenRow(
                name=name.strip(),
                scope=scope,
                token_hash=hash_token(secret),
                prefix=key_id,
                kind="sigv4",
                secret=secret,
            )
        else:
            secret = _PREFIX + secrets.token_urlsafe(32)
            row = ApiTokenRow(
                name=name.strip(), scope=scope, token_hash=hash_token(secret), prefix=secret[:10]
            )
        with self._metadata.session() as session:
            session.add(row)
            session.flush()
            return _info(row), secret

    def list(self) -> list[TokenInfo]:
        """Every token not revoked, oldest first."""
        with self._metadata.session() as session:
            rows = session.scalars(
                select(ApiTokenRow).where(ApiTokenRow.kind != _REVOKED).order_by(ApiTokenRow.id)
            )
            return [_info(r) for r in rows]

    def revoke(self, token_id: int) -> None:
        """Revoke a token: it no longer opens anything, and is no longer listed.

        The row stays, marked revoked and with its hash and secret wiped, so the
        workspace remembers that it had an admin token: revoking the last one closes
        management (see :meth:`management_closed`) instead of reopening it to anyone.

        Raises:
            NotFoundError: no such token, or one already revoked.
        """
        with self._metadata.session() as session:
            row = session.get(ApiTokenRow, token_id)
            if row is None or row.kind == _REVOKED:
                raise NotFoundError(f"token {token_id} not found")
            row.kind = _REVOKED
            row.token_hash = f"{_REVOKED}-{row.id}"  # unique, and no token's SHA-256
            row.secret = None

    def has_tokens(self) -> bool:
        """Whether any token is not revoked (what closes a workspace to anonymous
        readers), found without reading the tokens: one row at most, no secret."""
        with self._metadata.session() as session:
            return session.scalar(_ANY_TOKEN) is not None

    def find(self, token: str) -> TokenInfo | None:
        """The facts of bearer token ``token``; ``None`` when the workspace has no such
        token (or it was revoked). One row found by the token's hash, where
        :meth:`scopes` reads every token."""
        with self._metadata.session() as session:
            row = session.scalars(_BEARER_HASHED, {"digest": hash_token(token)}).first()
            return None if row is None else _info(row)

    def management_closed(self) -> bool:
        """Whether an admin credential was revoked and none is left."""
        with self._metadata.session() as session:
            kinds = session.scalars(
                select(ApiTokenRow.kind).where(ApiTokenRow.scope == "admin").distinct()
            ).all()
            return _REVOKED in kinds and all(kind == _REVOKED for kind in kinds)

    def scopes(self) -> dict[str, str]:
        """``{sha256: scope}`` of every bearer token."""
        return self.credentials()[0]

    def credentials(self) -> tuple[dict[str, str], dict[str, SigV4Secret]]:
        """The gateway's snapshot, in one query: ``{sha256: scope}`` of the bearer
        tokens and ``{access key id: secret and scope}`` of the SigV4 keys."""
        columns = (ApiTokenRow.kind, ApiTokenRow.token_hash, ApiTokenRow.prefix)
        with self._metadata.session() as session:
            rows = session.execute(select(*columns, ApiTokenRow.secret, ApiTokenRow.scope))
            bearer: dict[str, str] = {}
            sigv4: dict[str, SigV4Secret] = {}
            for kind, digest, prefix, secret, scope in rows:
                if kind == "sigv4" and secret:
                    sigv4[prefix] = SigV4Secret(secret, scope)
                elif kind == "bearer":
                    bearer[digest] = scope
            return bearer, sigv4


def _info(row: ApiTokenRow) -> TokenInfo:
    scope: Scope = "admin" if row.scope == "admin" else "invoke"
    kind: Literal["bearer", "sigv4"] = "sigv4" if row.kind == "sigv4" else "bearer"
    return TokenInfo(row.id, row.name, scope, row.prefix, row.created_at, kind)
