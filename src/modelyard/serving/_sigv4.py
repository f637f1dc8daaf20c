"""AWS Signature Version 4 verification, computed as botocore signs.

boto3 and the SageMaker Python SDK sign every request with SigV4 and cannot send a
bearer token, so a gateway with tokens on accepts, on its invocation routes, a
request signed with an access key that ``modelyard token create --sigv4`` issued.
The server recomputes the signature with :mod:`hashlib` and :mod:`hmac` only (no
botocore in the gateway; the tests check this module against botocore's signer):

1. the canonical request: method, the URI path with dot segments and repeated
   slashes removed and percent-encoded once more (``/`` and ``~`` kept), the query
   pairs sorted, each signed header as ``name:value`` (lower-case name, runs of
   white space in the value folded to one space, repeated headers joined by
   commas), the signed header names, and the payload's SHA-256 (the
   ``X-Amz-Content-SHA256`` header when sent, which must then match the body);
2. the string to sign: ``AWS4-HMAC-SHA256``, the request time (``X-Amz-Date``, or
   the ``Date`` header), the credential scope ``date/region/service/aws4_request``
   and the SHA-256 of the canonical request;
3. the signing key, HMAC-SHA256 chained over ``"AWS4" + secret``, the date, the
   region, the service and ``aws4_request``; the signature is the hex HMAC of the
   string to sign under it, compared in constant time.

As AWS does, a request signed more than 15 minutes away from the gateway's clock is
refused (a captured request cannot be replayed later), and so is one whose
payload is not signed (``UNSIGNED-PAYLOAD``): the body is what a signature must
protect here. Region and service are taken from the request's credential scope;
they are signed like the rest, so any region the client is configured with works.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote_plus

from modelyard.serving._auth import ForbiddenError, UnauthorizedError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from modelyard.serving._tokens import SigV4Secret

__all__ = [
    "ALGORITHM",
    "MAX_SKEW",
    "SignedRequest",
    "canonical_request",
    "is_sigv4",
    "signature",
    "verify",
]

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)
_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_UNSIGNED = ("UNSIGNED-PAYLOAD", "STREAMING-")


@dataclass(frozen=True)
class SignedRequest:
    """The parts of an HTTP request that a SigV4 signature covers.

    Attributes:
        method: the HTTP method.
        path: the request path as sent on the wire (still percent-encoded).
        query: the raw query string, without ``?``.
        headers: ``(lower-case name, value)`` pairs in the order received.
        body: the whole request body.
    """

    method: str
    path: str
    query: str
    headers: Sequence[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class _Authorization:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def is_sigv4(authorization: str | None) -> bool:
    """Whether an ``Authorization`` header carries a SigV4 signature."""
    return authorization is not None and authorization.lstrip().startswith(ALGORITHM)


def verify(
    request: SignedRequest,
    authorization: str,
    secrets: Mapping[str, SigV4Secret],
    scope: str,
    now: datetime | None = None,
) -> None:
    """Allow a SigV4-signed request or raise.

    Args:
        request: what was received.
        authorization: the request's ``Authorization`` header.
        secrets: access key id -> its secret and scope (the gateway's snapshot).
        scope: what the call needs, ``invoke`` or ``admin``.
        now: the gateway's clock (for tests; default: now, UTC).

    Raises:
        UnauthorizedError: a malformed header or an unknown access key id.
        ForbiddenError: the signature does not match (a wrong secret, or a request
            changed on the way), the request time is more than 15 minutes away,
            the payload is unsigned, or the key may only invoke and ``scope`` is
            ``admin``.
    """
    parsed = _parse(authorization)
    known = secrets.get(parsed.access_key)
    if known is None:
        raise UnauthorizedError(
            f"unknown SigV4 access key id {parsed.access_key[:32]!r}: create one with "
            "modelyard token create --sigv4",
            details={"access_key_id": parsed.access_key[:32]},
        )
    headers = _header_map(request.headers)
    timestamp = _request_time(headers)
    _check_time(timestamp, parsed, now or datetime.now(UTC))
    payload = _payload_hash(headers, request.body)
    if "host" not in parsed.signed_headers:
        raise ForbiddenError("a SigV4 signature must sign the Host header")
    absent = [h for h in parsed.signed_headers if h not in headers]
    if absent:
        raise ForbiddenError(
            f"the signed header {absent[0]!r} is not in the request",
            details={"header": absent[0]},
        )
    canonical = canonical_request(request, headers, parsed.signed_headers, payload)
    expected = signature(known.secret, timestamp.strftime(_TIMESTAMP), parsed.scope, canonical)
    if not hmac.compare_digest(expected, parsed.signature):
        raise ForbiddenError(
            f"the SigV4 signature does not match for access key {parsed.access_key}: "
            "check the secret access key the client signs with (and that no proxy "
            "changes the request's Host, path or headers on the way)",
            details={"access_key_id": parsed.access_key},
        )
    if scope == "admin" and known.scope != "admin":
        raise ForbiddenError("this needs an admin key; the access key sent may only invoke")


def canonical_request(
    request: SignedRequest,
    headers: Mapping[str, list[str]],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """SigV4's canonical request (step 1 of the module docstring)."""
    lines = [
        f"{name}:{','.join(' '.join(v.split()) for v in headers[name])}" for name in signed_headers
    ]
    return "\n".join(
        (
            request.method.upper(),
            _canonical_path(request.path),
            _canonical_query(request.query),
            "\n".join(lines) + "\n",
            ";".join(signed_headers),
            payload_hash,
        )
    )


def signature(secret: str, timestamp: str, scope: str, canonical: str) -> str:
    """The hex signature of a canonical request (steps 2 and 3 of the module docstring).

    ``scope`` is ``date/region/service/aws4_request``; ``timestamp`` is
    ``YYYYMMDDTHHMMSSZ``.
    """
    string_to_sign = "\n".join(
        (ALGORITHM, timestamp, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
    )
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _parse(authorization: str) -> _Authorization:
    text = authorization.strip()
    if not text.startswith(ALGORITHM + " "):
        raise UnauthorizedError(f"a SigV4 Authorization header starts with {ALGORITHM}")
    fields: dict[str, str] = {}
    for part in text[len(ALGORITHM) :].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value.strip()
    credential = fields.get("Credential", "").split("/")
    signed = fields.get("SignedHeaders", "")
    sig = fields.get("Signature", "")
    if len(credential) != 5 or credential[4] != "aws4_request" or not all(credential):
        raise UnauthorizedError(
            "malformed SigV4 Credential: expected ACCESS_KEY/DATE/REGION/SERVICE/aws4_request"
        )
    if not signed or not sig:
        raise UnauthorizedError("a SigV4 Authorization header needs SignedHeaders and Signature")
    names = tuple(signed.split(";"))
    if list(names) != sorted(set(names)) or any(n != n.strip().lower() for n in names):
        raise UnauthorizedError("SigV4 SignedHeaders must be lower-case, sorted and unique")
    key, date, region, service = credential[:4]
    return _Authorization(key, date, region, service, names, sig)


def _header_map(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    mapping: dict[str, list[str]] = {}
    for name, value in headers:
        mapping.setdefault(name.lower(), []).append(value)
    return mapping


def _request_time(headers: Mapping[str, list[str]]) -> datetime:
    if "x-amz-date" in headers:
        text = headers["x-amz-date"][0].strip()
        try:
            return datetime.strptime(text, _TIMESTAMP).replace(tzinfo=UTC)
        except ValueError:
            raise UnauthorizedError(
                f"malformed X-Amz-Date {text[:40]!r}: expected YYYYMMDDTHHMMSSZ"
            ) from None
    if "date" in headers:
        try:
            return parsedate_to_datetime(headers["date"][0]).astimezone(UTC)
        except (TypeError, ValueError):
            raise UnauthorizedError("malformed Date header in a SigV4-signed request") from None
    raise UnauthorizedError("a SigV4-signed request needs an X-Amz-Date (or Date) header")


def _check_time(timestamp: datetime, parsed: _Authorization, now: datetime) -> None:
    if timestamp.strftime("%Y%m%d") != parsed.date:
        raise ForbiddenError(
            f"the SigV4 credential date {parsed.date} is not the request's date {timestamp:%Y%m%d}"
        )
    if abs(now - timestamp) > MAX_SKEW:
        raise ForbiddenError(
            f"the request was signed at {timestamp:%Y-%m-%dT%H:%M:%SZ}, more than "
            f"{MAX_SKEW.seconds // 60} minutes from the gateway's time "
            f"{now:%Y-%m-%dT%H:%M:%SZ}: check the client's clock",
            details={"signed_at": timestamp.isoformat(), "server_time": now.isoformat()},
        )


def _payload_hash(headers: Mapping[str, list[str]], body: bytes) -> str:
    actual = hashlib.sha256(body).hexdigest()
    declared = headers.get("x-amz-content-sha256")
    if declared is None:
        return actual
    value = declared[0].strip()
    if value.startswith(_UNSIGNED):
        raise ForbiddenError(
            f"X-Amz-Content-SHA256: {value[:40]} is refused: the gateway needs the "
            "payload signed (botocore signs it unless told not to)"
        )
    if value.lower() != actual:
        raise ForbiddenError(
            "X-Amz-Content-SHA256 is not the SHA-256 of the body received",
            details={"declared": value[:64], "received": actual},
        )
    return value


def _canonical_path(path: str) -> str:
    segments = [s for s in path.split("/") if s and s != "."]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        else:
            kept.append(segment)
    text = ("/" if path.startswith("/") else "") + "/".join(kept)
    if path.endswith("/") and kept:
        text += "/"
    return quote(text or "/", safe="/~")


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = []
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        pairs.append((_encode(key), _encode(value)))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _encode(text: str) -> str:
    """Percent-encode as SigV4 wants (only ``A-Za-z0-9-_.~`` kept), whatever was sent.

    A ``+`` is a space: botocore signs a query parameter's space as ``%20`` and, when
    it sends parameters apart from the URL, writes it as ``+`` (form encoding)."""
    return quote(unquote_plus(text), safe="-_.~")
