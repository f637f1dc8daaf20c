"""Generated bodies, headers and content types never get a 5xx; schemathesis agrees."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.serving import VariantConfig
from tests.serving.conftest import LiveGateway, wait_served

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=30,
)
# what an HTTP client can send: visible ASCII, no surrounding whitespace
_HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30).map(
    str.strip
)


@pytest.fixture
def fuzz_target(
    gateway_factory: Callable[..., LiveGateway], endpoint_name: str
) -> Iterator[tuple[httpx.Client, str]]:
    live = gateway_factory()
    live.workspace.endpoints.create(
        endpoint_name,
        [VariantConfig("a", "churn:1"), VariantConfig("s", "churn:2", shadow=True)],
        capture_percent=50,
    )
    wait_served(live, endpoint_name, 1)
    with live.client() as client:
        yield client, endpoint_name


def _row_like(rows: list[dict[str, Any]]) -> st.SearchStrategy[Any]:
    """Real rows with some values swapped for generated ones (near-valid input)."""
    return st.builds(
        lambda row, changes: {**row, **changes},
        st.sampled_from(rows),
        st.dictionaries(st.sampled_from(sorted(rows[0])), _JSON, max_size=3),
    )


def _kserve_like(rows: list[dict[str, Any]]) -> st.SearchStrategy[Any]:
    """V2 inference requests from real rows, with generated ids and some bad tensors."""

    def request(row: dict[str, Any], request_id: Any, shape: Any) -> dict[str, Any]:
        inputs = [
            {"name": k, "shape": shape, "datatype": "BYTES", "data": [v]} for k, v in row.items()
        ]
        return {"id": request_id, "inputs": inputs}

    return st.builds(
        request,
        _row_like(rows),
        st.text(max_size=300) | _JSON,
        st.just([1]) | st.lists(st.integers(-2, 3), max_size=3),
    )


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_requests_never_get_a_server_error(
    fuzz_target: tuple[httpx.Client, str], churn_rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    client, name = fuzz_target
    document = data.draw(
        _JSON
        | _row_like(churn_rows)
        | st.lists(_row_like(churn_rows), max_size=3)
        | _kserve_like(churn_rows)
    )
    body = data.draw(
        st.one_of(
            st.just(json.dumps(document).encode()),
            st.binary(max_size=200),
            st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        )
    )
    content_type = data.draw(
        st.sampled_from(
            ["application/json", "text/csv", "text/plain", "", "application/json; charset=utf-8"]
        )
        | _HEADER_TEXT
    )
    path = data.draw(
        st.sampled_from(
            [
                f"/endpoints/{name}/invocations",
                f"/endpoints/{name}/predict",
                f"/v2/models/{name}/infer",
                "/invocations",
            ]
        )
    )
    headers = {"content-type": content_type}
    for header in (
        "x-modelyard-variant",
        "x-amzn-sagemaker-target-variant",
        "accept",
        "x-modelyard-sticky-key",
        "x-amzn-sagemaker-inference-id",
    ):
        if data.draw(st.booleans()):
            headers[header] = data.draw(_HEADER_TEXT)
    response = client.post(path, content=body, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        assert "error" in response.json()
    assert client.get("/v2/health/live").status_code == 200


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_kserve_requests_never_get_a_server_error(
    fuzz_target: tuple[httpx.Client, str], churn_rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    client, name = fuzz_target
    document = data.draw(_kserve_like(churn_rows))
    response = client.post(
        f"/v2/models/{name}/infer",
        content=json.dumps(document),
        headers={"content-type": "application/json"},
    )
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code == 200:
        # a string id is echoed exactly; any other is replaced by the request id
        assert response.json()["id"] == (
            document["id"]
            if isinstance(document["id"], str)
            else response.headers["x-modelyard-request-id"]
        )


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(
    gateway_factory: Callable[..., LiveGateway], endpoint_name: str
) -> None:
    import schemathesis
    from schemathesis.checks import not_a_server_error

    live = gateway_factory()
    live.workspace.endpoints.create(endpoint_name, [VariantConfig("a", "churn:1")])
    wait_served(live, endpoint_name, 1)
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")

    failures: list[str] = []
    calls: list[int] = []
    for operation in schema.get_all_operations():
        api = operation.ok()
        try:
            api.as_strategy()
        except Exception as exc:  # an operation schemathesis cannot generate for
            failures.append(f"{api.method} {api.path}: {exc}")
            continue

        @given(case=api.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            response = case.call_and_validate(base_url=live.url, checks=[not_a_server_error])
            calls.append(response.status_code)

        run()
    assert not failures, failures
    assert len(calls) > 200 and max(calls) < 500  # every operation was exercised
    with httpx.Client(base_url=live.url) as client:
        assert client.get("/v2/health/live").status_code == 200
