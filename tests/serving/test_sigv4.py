"""SigV4: the gateway's verifier against botocore's signer, and boto3 and the SageMaker
SDK against a real gateway with tokens on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.config
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.serving import VariantConfig
from modelyard.serving._auth import ForbiddenError, UnauthorizedError
from modelyard.serving._sigv4 import SignedRequest, is_sigv4, verify
from modelyard.serving._tokens import SigV4Secret, hash_token
from tests._markers import require_installed
from tests.conftest import Cli
from tests.serving.conftest import LiveGateway, wait_served

KEY, SECRET = "MYDKTESTKEY12345", "a-secret-of-forty-characters-0123456789"
SECRETS = {KEY: SigV4Secret(SECRET, "invoke")}


def _signed(
    method: str = "POST",
    url: str = "http://127.0.0.1:8080/endpoints/churn/invocations",
    body: bytes = b'{"a": 1}',
    headers: dict[str, str] | None = None,
    secret: str = SECRET,
    region: str = "eu-west-1",
    service: str = "sagemaker",
    params: dict[str, str] | None = None,
) -> tuple[SignedRequest, str]:
    """Sign with botocore, then return what a server receives and the Authorization."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {}, params=params)
    SigV4Auth(Credentials(KEY, secret), service, region).add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    received = [("host", parts.netloc)] + [(k.lower(), v) for k, v in prepared.headers.items()]
    authorization = prepared.headers["Authorization"]
    return SignedRequest(method, parts.path, parts.query, received, body), authorization


def test_a_request_botocore_signed_is_accepted() -> None:
    request, authorization = _signed(headers={"Content-Type": "application/json"})
    assert is_sigv4(authorization) and not is_sigv4("Bearer myd_x")
    verify(request, authorization, SECRETS, "invoke")


_SEGMENT = st.text("abcXYZ09-_.~ %+=:@!$'()*,;", min_size=1, max_size=8)
_PARAM = st.text("abc09-_.~ /%+=&?", min_size=0, max_size=8)


@settings(max_examples=150, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    segments=st.lists(_SEGMENT | st.sampled_from([".", "..", ""]), min_size=0, max_size=5),
    params=st.dictionaries(st.text("abcXY_-", min_size=1, max_size=5), _PARAM, max_size=3),
    body=st.binary(max_size=200),
    header=st.text(" \tabc,;=/0", max_size=20),
    region=st.sampled_from(["us-east-1", "eu-central-1", "local"]),
    service=st.sampled_from(["sagemaker", "execute-api", "s3x"]),
)
def test_verifier_agrees_with_botocore(
    method: str,
    segments: list[str],
    params: dict[str, str],
    body: bytes,
    header: str,
    region: str,
    service: str,
) -> None:
    from urllib.parse import quote

    path = "/" + "/".join(quote(s, safe="") if s not in (".", "..") else s for s in segments)
    request, authorization = _signed(
        method,
        f"http://localhost:9{path}",
        body,
        {"X-Custom": header, "Content-Type": "text/csv"},
        region=region,
        service=service,
        params=params,
    )
    verify(request, authorization, SECRETS, "invoke")
    # the same request signed with another secret is refused
    _, forged = _signed(
        method, f"http://localhost:9{path}", body, {"X-Custom": header, "Content-Type": "text/csv"},
        secret="another", region=region, service=service, params=params,
    )  # fmt: skip
    with pytest.raises(ForbiddenError, match="signature does not match"):
        verify(request, forged, SECRETS, "invoke")
    # and so is the signed request with its body changed on the way
    changed = SignedRequest(
        request.method, request.path, request.query, request.headers, body + b"x"
    )
    with pytest.raises(ForbiddenError, match="signature does not match"):
        verify(changed, authorization, SECRETS, "invoke")


def test_signed_header_values_must_match() -> None:
    request, authorization = _signed(headers={"Content-Type": "application/json"})
    swapped = [(k, "text/csv" if k == "content-type" else v) for k, v in request.headers]
    changed = SignedRequest(request.method, request.path, request.query, swapped, request.body)
    with pytest.raises(ForbiddenError, match="signature does not match"):
        verify(changed, authorization, SECRETS, "invoke")


def test_clock_skew_window() -> None:
    request, authorization = _signed()
    now = datetime.now(UTC)
    verify(request, authorization, SECRETS, "invoke", now=now + timedelta(minutes=14))
    verify(request, authorization, SECRETS, "invoke", now=now - timedelta(minutes=14))
    for skew in (timedelta(minutes=16), -timedelta(minutes=16)):
        with pytest.raises(ForbiddenError, match="check the client's clock"):
            verify(request, authorization, SECRETS, "invoke", now=now + skew)


def test_payload_hash_header() -> None:
    body = b'{"a": 1}'
    import hashlib

    good = {"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()}
    verify(*_signed(body=body, headers=good), SECRETS, "invoke")
    lying = {"X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()}
    with pytest.raises(ForbiddenError, match="not the SHA-256 of the body"):
        verify(*_signed(body=body, headers=lying), SECRETS, "invoke")
    with pytest.raises(ForbiddenError, match="payload signed"):
        verify(*_signed(headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}), SECRETS, "invoke")


def test_malformed_and_unknown() -> None:
    request, authorization = _signed()
    with pytest.raises(UnauthorizedError, match="unknown SigV4 access key id"):
        verify(request, authorization, {}, "invoke")
    for header in (
        "AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=K/20260101/r/s/aws4_request, Signature=00",
        "AWS4-HMAC-SHA256 Credential=K/20260101/r/s/aws4_request, SignedHeaders=x-a;host, "
        "Signature=00",
    ):
        with pytest.raises(UnauthorizedError):
            verify(request, header, SECRETS, "invoke")
    no_date = SignedRequest(
        request.method,
        request.path,
        request.query,
        [(k, v) for k, v in request.headers if k != "x-amz-date"],
        request.body,
    )
    with pytest.raises(UnauthorizedError, match="X-Amz-Date"):
        verify(no_date, authorization, SECRETS, "invoke")
    with pytest.raises(ForbiddenError, match="admin"):
        verify(request, authorization, SECRETS, "admin")


# -- real clients against a real gateway -------------------------------------------


@pytest.fixture
def secured(
    gateway_factory: Callable[..., LiveGateway], churn_workspace: Path, endpoint_name: str
) -> Iterator[tuple[LiveGateway, str, str]]:
    """A gateway with a bearer token and a SigV4 key made by ``modelyard token create
    --sigv4``: (gateway, access key id, secret)."""
    live = gateway_factory()
    tokens = live.workspace.endpoints.tokens
    live.workspace.endpoints.create(endpoint_name, [VariantConfig("a", "churn:1")])
    wait_served(live, endpoint_name, 1)
    bearer, _ = tokens.create("app", "invoke")
    made = Cli(churn_workspace)("token", "create", "--sigv4", "--name", "sm", "--json")
    issued = json.loads(made.stdout)
    try:
        key, secret = issued["access_key_id"], issued["secret_access_key"]
        assert issued["kind"] == "sigv4" and key.startswith("MYDK") and len(secret) == 40
        listed = json.loads(Cli(churn_workspace)("token", "list", "--json").stdout)
        assert [t.get("access_key_id") for t in listed] == [None, key]
        assert secret not in json.dumps(listed)
        with live.client() as client:
            path = f"/endpoints/{endpoint_name}/invocations"
            deadline = time.monotonic() + 10  # the gateway polls the store for tokens
            while client.post(path, json={}).status_code != 401:
                assert time.monotonic() < deadline, "tokens were not picked up"
                time.sleep(0.05)
        yield live, key, secret
    finally:
        tokens.revoke(bearer.id)
        tokens.revoke(issued["id"])


def _runtime(url: str, key: str, secret: str) -> Any:
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name="eu-west-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def test_boto3_invoke_endpoint_with_sigv4_key(
    secured: tuple[LiveGateway, str, str],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
) -> None:
    live, key, secret = secured
    body = json.dumps(churn_rows[:3])
    answer = _runtime(live.url, key, secret).invoke_endpoint(
        EndpointName=endpoint_name, Body=body, ContentType="application/json"
    )
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(json.loads(answer["Body"].read())["predictions"]) == 3

    # A secret that differs from the real one in its last character, whatever that is.
    wrong_secret = secret[:-1] + ("y" if secret.endswith("x") else "x")
    assert wrong_secret != secret
    with pytest.raises(ClientError) as wrong:
        _runtime(live.url, key, wrong_secret).invoke_endpoint(
            EndpointName=endpoint_name, Body=body, ContentType="application/json"
        )
    error = wrong.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert "signature does not match" in error["Error"]["Message"]
    assert key in error["Error"]["Message"]

    with pytest.raises(ClientError) as unknown:
        _runtime(live.url, "MYDKNOSUCHKEY000", secret).invoke_endpoint(
            EndpointName=endpoint_name, Body=body, ContentType="application/json"
        )
    assert unknown.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    assert "unknown SigV4 access key id" in unknown.value.response["Error"]["Message"]


_PREDICTOR = textwrap.dedent(
    """
    import json, sys
    import boto3
    from sagemaker.deserializers import JSONDeserializer
    from sagemaker.predictor import Predictor
    from sagemaker.serializers import JSONSerializer
    from sagemaker.session import Session

    url, name, key, secret, rows = sys.argv[1:6]
    boto = boto3.Session(
        aws_access_key_id=key, aws_secret_access_key=secret, region_name="eu-west-1"
    )
    runtime = boto.client("sagemaker-runtime", endpoint_url=url)
    session = Session(boto_session=boto, sagemaker_runtime_client=runtime)
    predictor = Predictor(
        name, sagemaker_session=session,
        serializer=JSONSerializer(), deserializer=JSONDeserializer(),
    )
    try:
        answer = predictor.predict(json.loads(rows))
    except Exception as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
    else:
        print(json.dumps(answer))
    """
)


def _predictor(url: str, name: str, key: str, secret: str, rows: list[dict[str, Any]]) -> Any:
    """``sagemaker.predictor.Predictor.predict`` in its own process (the SDK sets up
    logging, warnings and a Rich traceback handler at import)."""
    env = dict(os.environ, SAGEMAKER_SUPPRESS_V2_WARNING="1")
    done = subprocess.run(
        [sys.executable, "-c", _PREDICTOR, url, name, key, secret, json.dumps(rows)],
        capture_output=True, text=True, timeout=240, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_sagemaker_sdk_predictor_with_sigv4_key(
    secured: tuple[LiveGateway, str, str],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
) -> None:
    require_installed("sagemaker", "the sagemaker<3 dev extra")
    live, key, secret = secured
    answer = _predictor(live.url, endpoint_name, key, secret, churn_rows[:2])
    assert len(answer["predictions"]) == 2 and answer["variant"] == "a"
    refused = _predictor(live.url, endpoint_name, key, "wrong" + secret, churn_rows[:2])
    assert refused["error"] == "ClientError" and "signature does not match" in refused["message"]


def test_container_invocations_accept_a_signed_request(
    gateway_factory: Callable[..., LiveGateway],
    churn_workspace: Path,
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
) -> None:
    import httpx

    from modelyard.serving import GatewayOptions
    from modelyard.workspace import Workspace

    with Workspace.open(churn_workspace) as ws:
        ws.endpoints.create(endpoint_name, [VariantConfig("only", "churn:2")])
        info, secret = ws.endpoints.tokens.create("container", "invoke", sigv4=True)
    try:
        live = gateway_factory(GatewayOptions(endpoint=endpoint_name, access_log=False))
        key = info.access_key_id
        assert key is not None
        body = json.dumps(churn_rows[:2]).encode()
        with httpx.Client(base_url=live.url, timeout=30) as client:
            assert client.post("/invocations", content=body).status_code == 401
            for secret_used, status in ((secret, 200), (secret + "x", 403)):
                request = AWSRequest(
                    method="POST",
                    url=f"{live.url}/invocations",
                    data=body,
                    headers={"Content-Type": "application/json"},
                )
                SigV4Auth(Credentials(key, secret_used), "sagemaker", "local").add_auth(request)
                answer = client.post(
                    "/invocations", content=body, headers=dict(request.prepare().headers)
                )
                assert answer.status_code == status, answer.text
            assert len(answer.json()["message"]) > 0
    finally:
        with Workspace.open(churn_workspace) as ws:
            ws.endpoints.tokens.revoke(info.id)


def test_sigv4_keys_are_stored_on_each_backend(any_workspace: Any) -> None:
    tokens = any_workspace.endpoints.tokens
    bearer, token = tokens.create("app", "admin")
    info, secret = tokens.create("sm", "invoke", sigv4=True)
    scopes, keys = tokens.credentials()
    assert info.kind == "sigv4" and info.access_key_id == info.prefix
    assert keys == {info.prefix: SigV4Secret(secret, "invoke")}
    assert list(scopes.values()) == ["admin"] and tokens.scopes() == scopes
    # the access key id is public: it is never a bearer token
    assert hash_token(info.prefix) not in scopes and hash_token(secret) not in scopes
    assert [t.kind for t in tokens.list()] == ["bearer", "sigv4"]
    tokens.revoke(info.id)
    assert tokens.credentials() == (scopes, {})
    assert token.startswith("myd_") and bearer.access_key_id is None


@settings(max_examples=300, deadline=None)
@given(
    rest=st.text(max_size=120),
    amz_date=st.none() | st.text(max_size=20) | st.just("20260101T000000Z"),
    date=st.none() | st.text(max_size=40) | st.just("Mon, 01 Jan 2029 00:00:00 -0000"),
    signed=st.sampled_from(["host", "host;x-amz-date", "content-type;host"]),
)
def test_any_signed_header_is_refused_with_a_clear_error(
    rest: str, amz_date: str | None, date: str | None, signed: str
) -> None:
    headers = [("host", "localhost")]
    headers += [("x-amz-date", amz_date)] if amz_date is not None else []
    headers += [("date", date)] if date is not None else []
    request = SignedRequest("POST", "/invocations", "", headers, b"{}")
    for authorization in (
        f"AWS4-HMAC-SHA256 {rest}",
        f"AWS4-HMAC-SHA256 Credential={KEY}/20260101/r/s/aws4_request, "
        f"SignedHeaders={signed}, Signature={rest}",
    ):
        with pytest.raises((UnauthorizedError, ForbiddenError)) as caught:
            verify(request, authorization, SECRETS, "invoke")
        assert caught.value.message
