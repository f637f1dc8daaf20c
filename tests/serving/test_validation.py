"""Bad requests get a 4xx naming the problem; the server stays up."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelyard.serving import GatewayOptions, VariantConfig
from modelyard.workspace import Workspace
from tests.serving.conftest import LiveGateway, wait_served


@pytest.fixture
def client(
    gateway_factory: Callable[..., LiveGateway], endpoint_name: str
) -> Iterator[httpx.Client]:
    live = gateway_factory(GatewayOptions(max_body_bytes=20_000, access_log=False))
    live.workspace.endpoints.create(
        endpoint_name, [VariantConfig("a", "churn:1")], unexpected_columns="reject"
    )
    wait_served(live, endpoint_name, 1)
    with live.client() as http:
        yield http


@pytest.fixture
def rows(client: httpx.Client, endpoint_name: str, churn_rows: list[dict[str, Any]]) -> Any:
    """Rows holding exactly the model's input columns (the endpoint rejects others)."""
    inputs = {i["name"] for i in client.get(f"/v2/models/{endpoint_name}").json()["inputs"]}
    return [{k: v for k, v in row.items() if k in inputs} for row in churn_rows]


def _post(client: httpx.Client, name: str, body: Any, **kwargs: Any) -> httpx.Response:
    return client.post(f"/endpoints/{name}/predict", json=body, **kwargs)


def _error(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"type", "message", "details"}
    return error


def test_field_errors_name_the_field(
    client: httpx.Client, endpoint_name: str, rows: list[dict[str, Any]]
) -> None:
    row = rows[0]
    assert _post(client, endpoint_name, row).status_code == 200
    numeric = next(k for k, v in row.items() if isinstance(v, float))
    missing = dict(row)
    del missing[numeric]
    error = _error(_post(client, endpoint_name, missing))
    assert numeric in error["message"] and error["details"]["column"] == numeric

    wrong = dict(row, **{numeric: "lots"})
    response = _post(client, endpoint_name, [row, wrong])
    assert response.status_code == 422
    error = _error(response)
    assert error["details"] == {"column": numeric, "row": 1, "value": "'lots'"}

    extra = dict(row, favourite_colour="blue")
    error = _error(_post(client, endpoint_name, extra))
    assert "favourite_colour" in error["message"] and "expected" in error["details"]

    infinite = client.post(
        f"/endpoints/{endpoint_name}/predict",
        content=json.dumps(dict(row, **{numeric: float("inf")})),
        headers={"content-type": "application/json"},
    )
    assert numeric in _error(infinite)["message"]


def test_nan_only_where_training_saw_missing_values(
    client: httpx.Client, endpoint_name: str, rows: list[dict[str, Any]], churn_workspace: Path
) -> None:
    with Workspace.open(churn_workspace) as ws:
        inputs = ws.models.load("churn:1").manifest.inputs
    strict = [i["name"] for i in inputs if not i["nullable"]]
    lenient = [i["name"] for i in inputs if i["nullable"]]
    assert strict and lenient, inputs
    for name in strict[:3]:
        body = json.dumps(dict(rows[0], **{name: float("nan")}))
        response = client.post(
            f"/endpoints/{endpoint_name}/predict",
            content=body,
            headers={"content-type": "application/json"},
        )
        error = _error(response)
        assert "missing value" in error["message"] and error["details"]["column"] == name
    body = json.dumps(dict(rows[0], **dict.fromkeys(lenient, None)))
    response = client.post(
        f"/endpoints/{endpoint_name}/predict",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b"", "application/json", 422, "empty"),
        (b"{not json", "application/json", 422, "malformed JSON"),
        (b'"just a string"', "application/json", 422, "object"),
        (b"[]", "application/json", 422, "no rows"),
        (b"a,b\n1", "text/csv", 422, "values"),
        (b'"unclosed\n', "text/csv", 422, "CSV"),
        (b"<xml/>", "application/xml", 415, "content type"),
        (b"x" * 30_000, "application/json", 413, "limit"),
    ],
)
def test_bad_bodies(
    client: httpx.Client,
    endpoint_name: str,
    body: bytes,
    content_type: str,
    status: int,
    words: str,
) -> None:
    response = client.post(
        f"/endpoints/{endpoint_name}/predict", content=body, headers={"content-type": content_type}
    )
    assert response.status_code == status, response.text
    assert words in _error(response)["message"]
    assert client.get("/v2/health/live").status_code == 200


def test_unknown_endpoint_and_variant(
    client: httpx.Client, endpoint_name: str, rows: list[dict[str, Any]]
) -> None:
    assert _post(client, "nope", rows[0]).status_code == 404
    response = _post(client, endpoint_name, rows[0], headers={"X-Modelyard-Variant": "zz"})
    assert "zz" in _error(response)["message"]


def test_hidden_schema(
    gateway_factory: Callable[..., LiveGateway],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
) -> None:
    live = gateway_factory()
    live.workspace.endpoints.create(
        endpoint_name,
        [VariantConfig("a", "churn:1")],
        unexpected_columns="reject",
        hide_schema=True,
    )
    wait_served(live, endpoint_name, 1)
    with live.client() as client:
        error = _error(_post(client, endpoint_name, dict(churn_rows[0], extra=1)))
    assert "expected" not in error["details"] and "extra" in error["message"]


def test_an_integer_too_long_to_convert_is_a_4xx(client: httpx.Client, endpoint_name: str) -> None:
    """json.loads raises a plain ValueError past 4,300 digits: it was a 500 on every protocol."""
    body = b'{"inputs": [], "n": ' + b"1" * 5000 + b"}"
    for path in ("predict", "invocations"):
        response = client.post(
            f"/endpoints/{endpoint_name}/{path}",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert response.status_code in (422, 424), response.text
        assert "4300 digits" in response.text
    response = client.post(f"/v2/models/{endpoint_name}/infer", content=body)
    assert response.status_code == 422  # the V2 protocol's error is a string
    assert "4300 digits" in response.json()["error"]
    assert client.get("/v2/health/live").status_code == 200


def test_a_compressed_body_is_refused_by_name(
    client: httpx.Client, endpoint_name: str, rows: list[dict[str, Any]]
) -> None:
    """A gzip body was answered as 'not UTF-8 text', which does not say what to change."""
    response = client.post(
        f"/endpoints/{endpoint_name}/predict",
        content=gzip.compress(json.dumps(rows[0]).encode()),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert response.status_code == 415
    error = _error(response)
    assert "Content-Encoding: gzip" in error["message"]
    assert error["details"] == {"content_encoding": "gzip"}
    plain = client.post(
        f"/endpoints/{endpoint_name}/predict",
        json=rows[0],
        headers={"content-encoding": "identity"},
    )
    assert plain.status_code == 200, plain.text


def test_a_number_float32_cannot_hold_is_a_4xx(
    client: httpx.Client, endpoint_name: str, rows: list[dict[str, Any]]
) -> None:
    """1e300 passed validation and overflowed in the model's float32 cast: a 500."""
    numeric = next(k for k, v in rows[0].items() if isinstance(v, float))
    for value in (1e300, -3.5e38, "1e39"):
        response = _post(client, endpoint_name, dict(rows[0], **{numeric: value}))
        error = _error(response)
        assert error["details"]["column"] == numeric and "3.4e38" in error["message"]
    assert _post(client, endpoint_name, dict(rows[0], **{numeric: 3e38})).status_code == 200


def test_a_datetime_as_epoch_milliseconds_answers_as_its_iso_text(
    client: httpx.Client, endpoint_name: str, rows: list[dict[str, Any]]
) -> None:
    """pandas' to_json writes a datetime as epoch milliseconds: the gateway reads it
    as the same moment as its ISO text (issue 17, dates)."""
    import pandas as pd

    row = rows[0]
    moment = pd.Timestamp(row["signup_date"])
    as_number = {**row, "signup_date": int(moment.value // 1_000_000)}
    by_text = _post(client, endpoint_name, row)
    by_number = _post(client, endpoint_name, as_number)
    assert by_text.status_code == 200 and by_number.status_code == 200, by_number.text
    assert by_number.json()["predictions"] == by_text.json()["predictions"]
    infinite = _error(_post(client, endpoint_name, {**row, "signup_date": 1e300}))
    assert "signup_date" in infinite["message"]
