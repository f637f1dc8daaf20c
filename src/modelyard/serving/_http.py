"""The invocation hot path as plain ASGI: read the body, predict, answer, record.

Three protocols share one flow and differ only in how they read and answer:

- ``sagemaker``: ``POST /endpoints/{name}/invocations`` and the container's
  ``POST /invocations``. Input errors are answered as SageMaker does when a
  container answers 4xx: status 424 with ``x-amzn-ErrorType: ModelError`` (so
  boto3 raises ``ModelError``), the original status and modelyard's error body;
- ``modelyard``: ``POST /endpoints/{name}/predict``, errors as
  ``{"error": {"type", "message", "details"}}`` with their own status;
- ``kserve``: ``POST /v2/models/{name}[/versions/{version}]/infer`` (Open Inference
  Protocol tensors, JSON or binary; errors as ``{"error": "message"}``).

No framework routing, no DataFrame, no pydantic on this path: it is what the
gateway spends its time on.

Once the workspace has tokens, a request needs a bearer token or a SigV4 signature
(boto3 and the SageMaker SDK sign and cannot send a token); a signature covers the
body, so it is checked once the body is read.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable, MutableMapping
from functools import partial
from typing import Any

import orjson

from modelyard.errors import InvalidInputError, ModelyardError, NotFoundError
from modelyard.serving._gateway import BodyTooLargeError, Gateway, Outcome
from modelyard.serving._kserve import kserve_answer, parse_kserve, read_kserve, version_variant
from modelyard.serving._parse import UnsupportedMediaError, parse_body
from modelyard.serving._sigv4 import SignedRequest, is_sigv4, verify
from modelyard.serving._variant import prediction_body

__all__ = ["InvocationHandler", "invocation_route"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON = b"application/json"


def invocation_route(method: str, path: str) -> tuple[str, str | None, str | None] | None:
    """``(protocol, endpoint, version)`` when ``path`` is an invocation, else ``None``."""
    if method != "POST":
        return None
    if path == "/invocations":
        return ("sagemaker", None, None)
    parts = path.split("/")
    if len(parts) == 4 and parts[1] == "endpoints" and parts[2]:
        if parts[3] == "invocations":
            return ("sagemaker", parts[2], None)
        if parts[3] == "predict":
            return ("modelyard", parts[2], None)
    if len(parts) >= 5 and parts[1] == "v2" and parts[2] == "models" and parts[-1] == "infer":
        if len(parts) == 5:
            return ("kserve", parts[3], None)
        if len(parts) == 7 and parts[4] == "versions" and parts[5]:
            return ("kserve", parts[3], parts[5])
    return None


class InvocationHandler:
    """Answers invocation requests for one gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def __call__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        protocol: str,
        name: str | None,
        version: str | None = None,
    ) -> None:
        gateway = self.gateway
        headers = _headers(scope)
        outcome = gateway.begin(name or "", headers.get("x-amzn-sagemaker-inference-id"))
        body = b""
        content_type = headers.get("content-type", "")
        document: dict[str, Any] = {}
        authorization = headers.get("authorization")
        signed = authorization if gateway.guard.closed and is_sigv4(authorization) else None
        try:
            if signed is None:
                gateway.guard.check(authorization, "invoke")
            _check_encoding(headers.get("content-encoding"))
            body = await _read_body(receive, headers, gateway.options.max_body_bytes)
            if signed is not None:
                verify(_signed_request(scope, body), signed, gateway.guard.sigv4, "invoke")
            if name is None:
                outcome.endpoint = gateway.single()
            target = headers.get("x-modelyard-variant") or headers.get(
                "x-amzn-sagemaker-target-variant"
            )
            if protocol == "kserve":
                document = read_kserve(body, headers.get("inference-header-content-length"))
                if isinstance(document.get("id"), str) and outcome.inference_id is None:
                    outcome.inference_id = document["id"]
                if version is not None:
                    target = version_variant(gateway.state(outcome.endpoint), version)
                parse = partial(parse_kserve, document)
            else:
                parse = partial(parse_body, body, content_type)
            await gateway.predict(outcome, parse, target, headers.get("x-modelyard-sticky-key"))
        except ModelyardError as exc:
            outcome.fail(exc)
        extra: list[tuple[bytes, bytes]] = []
        if protocol == "kserve":
            binary = "inference-header-content-length" in headers
            status, payload, media, extra, captured = _render_kserve(
                outcome, document, body, binary
            )
        else:
            status, payload, media = _render(protocol, outcome, headers.get("accept", ""))
            captured = (body, payload)
        response_headers = [
            (b"content-type", media),
            (b"content-length", str(len(payload)).encode()),
            (b"x-modelyard-request-id", outcome.request_id.encode()),
            *extra,
        ]
        if outcome.variant is not None and outcome.error is None:
            variant = outcome.variant.name.encode()
            response_headers += [
                (b"x-modelyard-variant", variant),
                (b"x-amzn-invoked-production-variant", variant),
                (b"x-modelyard-model", outcome.variant.model_ref.encode()),
                (b"x-modelyard-config-version", str(outcome.config_version).encode()),
            ]
        if outcome.inference_id and _safe_header(outcome.inference_id):
            response_headers.append(
                (b"x-amzn-sagemaker-inference-id", outcome.inference_id.encode("latin-1"))
            )
        if outcome.error is not None and protocol == "sagemaker":
            response_headers.append((b"x-amzn-errortype", _sagemaker_code(outcome.error).encode()))
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})
        gateway.finish(outcome, status, *captured, content_type)


def _check_encoding(encoding: str | None) -> None:
    """Refuse a compressed body by name (it was reported as text that is not UTF-8)."""
    if encoding is not None and encoding.strip().lower() not in ("", "identity"):
        raise UnsupportedMediaError(
            f"compressed request bodies are not accepted (Content-Encoding: {encoding[:40]}): "
            "send the body uncompressed",
            details={"content_encoding": encoding[:40]},
        )


def _safe_header(text: str) -> bool:
    """Whether ``text`` can be echoed as a header value (a KServe id is any JSON string)."""
    return len(text) <= 256 and text.isascii() and text.isprintable()


def _signed_request(scope: Scope, body: bytes) -> SignedRequest:
    """The request as a SigV4 signature covers it: the path as sent (still encoded)."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    return SignedRequest(
        scope["method"],
        raw.decode("latin-1"),
        scope.get("query_string", b"").decode("latin-1"),
        [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]],
        body,
    )


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


async def _read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(
            f"request body of {int(declared):,} bytes is over the limit of {limit:,} bytes",
            details={"limit": limit},
        )
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidInputError("the client went away before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(
                f"request body is over the limit of {limit:,} bytes", details={"limit": limit}
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _render_kserve(
    outcome: Outcome, request: dict[str, Any], body: bytes, binary_request: bool
) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]], tuple[bytes, bytes]]:
    """Status, body, media type and extra headers of a V2 answer, and the request and
    response capture records (their JSON forms where a side was binary)."""
    recorded = _dumps(request) if binary_request and request else body
    if outcome.error is None and outcome.prediction is not None:
        try:
            answer = kserve_answer(outcome, request, _dumps)
        except ModelyardError as exc:
            outcome.fail(exc)
        else:
            if not answer.binary:
                return 200, answer.header, _JSON, [], (recorded, answer.header)
            size = str(len(answer.header)).encode()
            return (
                200,
                answer.header + answer.binary,
                b"application/octet-stream",
                [(b"inference-header-content-length", size)],
                (recorded, _dumps(answer.document)),
            )
    error = outcome.error or ModelyardError("no prediction was made")
    payload = _dumps({"error": error.message})
    return error.http_status, payload, _JSON, [], (recorded, payload)


def _render(protocol: str, outcome: Outcome, accept: str) -> tuple[int, bytes, bytes]:
    error = outcome.error
    if error is None and outcome.prediction is not None and outcome.variant is not None:
        if "text/csv" in accept and "json" not in accept:
            return 200, _csv(outcome), b"text/csv"
        body = prediction_body(outcome.prediction)
        threshold = outcome.variant.model.threshold
        if threshold is not None:
            body["threshold"] = threshold
        body.update(
            variant=outcome.variant.name,
            model=outcome.variant.model_ref,
            request_id=outcome.request_id,
        )
        if outcome.inference_id:
            body["inference_id"] = outcome.inference_id
        return 200, _dumps(body), _JSON
    if error is None:  # unreachable: predict always sets one of the two
        error = ModelyardError("no prediction was made")
    payload = error.to_dict()
    status = error.http_status
    if protocol == "sagemaker":
        code = _sagemaker_code(error)
        if code == "ModelError":
            payload = {
                "Message": f"Received client error ({status}) from model: {error.message}",
                "OriginalStatusCode": status,
                "OriginalMessage": json.dumps(payload),
                **payload,
            }
            status = 424
        else:
            payload = {"message": error.message, **payload}
    return status, _dumps(payload), _JSON


def _sagemaker_code(error: ModelyardError) -> str:
    if isinstance(error, NotFoundError) or error.http_status in (401, 403, 413):
        return {401: "AccessDeniedException", 403: "AccessDeniedException"}.get(
            error.http_status, "ValidationError"
        )
    return "ModelError"


def _dumps(data: Any) -> bytes:
    """Compact JSON: orjson, or :mod:`json` for what orjson refuses (an integer past 64
    bits, a lone surrogate in a text). orjson writes NaN and infinity as ``null``."""
    try:
        return orjson.dumps(data, default=_default)
    except orjson.JSONEncodeError:
        return json.dumps(data, separators=(",", ":"), allow_nan=False, default=str).encode()


def _default(value: Any) -> Any:
    """What :mod:`json` would write: a float subclass (numpy's float64) as a number
    (orjson serialises only exact floats), anything else unknown as its text."""
    if isinstance(value, float):
        return float(value)
    return str(value)


def _csv(outcome: Outcome) -> bytes:
    assert outcome.prediction is not None
    frame = prediction_body(outcome.prediction)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    classes = frame.get("classes")
    writer.writerow(["prediction", *(f"proba_{c}" for c in classes or [])])
    for index, value in enumerate(frame["predictions"]):
        probabilities = frame["probabilities"][index] if classes else []
        writer.writerow([value, *probabilities])
    return buffer.getvalue().encode()
