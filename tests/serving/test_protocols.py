"""Each protocol through a real client against a real gateway on a loopback port."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import botocore.config
import pytest

from modelyard.serving import GatewayOptions, VariantConfig
from modelyard.workspace import Workspace
from tests.serving.conftest import LiveGateway, wait_served


@pytest.fixture
def live(gateway_factory: Callable[..., LiveGateway], endpoint_name: str) -> LiveGateway:
    gateway = gateway_factory()
    gateway.workspace.endpoints.create(
        endpoint_name,
        [VariantConfig("a", "churn:1", 1.0), VariantConfig("b", "churn:2", 1.0)],
    )
    wait_served(gateway, endpoint_name, 1)  # picked up by polling the store
    return gateway


def test_json_shapes_answer_alike(
    live: LiveGateway, endpoint_name: str, churn_rows: list[dict[str, Any]]
) -> None:
    rows = churn_rows[:3]
    columns = list(rows[0])
    split = {"columns": columns, "data": [[r[c] for c in columns] for r in rows]}
    bodies = [
        rows,
        {"dataframe_records": rows},
        {"dataframe_split": split},
        split,
        {"instances": rows},
        {"inputs": {c: [r[c] for r in rows] for c in columns}},
    ]
    path = f"/endpoints/{endpoint_name}/predict"
    with live.client() as client:
        answers = []
        for body in bodies:
            response = client.post(path, json=body, headers={"X-Modelyard-Variant": "a"})
            assert response.status_code == 200, response.text
            answers.append(response.json())
        single = client.post(path, json=rows[0], headers={"X-Modelyard-Variant": "a"}).json()
    first = answers[0]
    assert len(first["predictions"]) == 3 and len(first["probabilities"][0]) == 2
    for answer in answers[1:]:
        assert answer["probabilities"] == first["probabilities"]
    assert single["probabilities"][0] == first["probabilities"][0]
    assert first["variant"] == "a" and first["model"] == "churn:1" and first["request_id"]
    assert first["classes"] == [0, 1] and "threshold" in first


def test_csv_in_and_out(
    live: LiveGateway, endpoint_name: str, churn_rows: list[dict[str, Any]]
) -> None:
    rows = churn_rows[:4]
    columns = list(rows[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    with live.client() as client:
        response = client.post(
            f"/endpoints/{endpoint_name}/invocations",
            content=buffer.getvalue(),
            headers={"Content-Type": "text/csv", "Accept": "text/csv", "X-Modelyard-Variant": "b"},
        )
        reference = client.post(
            f"/endpoints/{endpoint_name}/invocations",
            json=rows,
            headers={"X-Modelyard-Variant": "b"},
        ).json()
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-modelyard-variant"] == "b"
    assert response.headers["x-amzn-invoked-production-variant"] == "b"
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["prediction", "proba_0", "proba_1"]
    assert [float(r[2]) for r in table[1:]] == pytest.approx(
        [p[1] for p in reference["probabilities"]], abs=1e-6
    )


def test_boto3_sagemaker_runtime(
    live: LiveGateway, endpoint_name: str, churn_rows: list[dict[str, Any]]
) -> None:
    client = boto3.client(
        "sagemaker-runtime",
        endpoint_url=live.url,
        region_name="us-east-1",
        aws_access_key_id="dummy",
        aws_secret_access_key="dummy",
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )
    response = client.invoke_endpoint(
        EndpointName=endpoint_name,
        Body=json.dumps(churn_rows[:2]),
        ContentType="application/json",
        TargetVariant="b",
        InferenceId="inference-42",
    )
    assert response["InvokedProductionVariant"] == "b"
    answer = json.loads(response["Body"].read())
    assert len(answer["predictions"]) == 2 and answer["inference_id"] == "inference-42"
    bad = dict(churn_rows[0], tenure_months="a long time")
    with pytest.raises(client.exceptions.ModelError) as caught:
        client.invoke_endpoint(
            EndpointName=endpoint_name, Body=json.dumps(bad), ContentType="application/json"
        )
    error = caught.value.response
    assert error["OriginalStatusCode"] == 422
    assert "tenure_months" in error["Error"]["Message"]
    with pytest.raises(client.exceptions.ValidationError):
        client.invoke_endpoint(EndpointName="no-such-endpoint", Body=b"{}")


def test_kserve_v2(live: LiveGateway, endpoint_name: str, churn_rows: list[dict[str, Any]]) -> None:
    rows = churn_rows[:2]
    inputs = [
        {"name": c, "shape": [2], "datatype": "BYTES", "data": [r[c] for r in rows]}
        for c in rows[0]
    ]
    with live.client() as client:
        assert client.get("/v2").json()["name"] == "modelyard"
        assert client.get("/v2/health/live").json() == {"live": True}
        assert client.get("/v2/health/ready").status_code == 200
        meta = client.get(f"/v2/models/{endpoint_name}").json()
        assert {i["name"] for i in meta["inputs"]} == set(rows[0]) - {"customer_id"} or meta
        assert client.get(f"/v2/models/{endpoint_name}/ready").json()["ready"] is True
        assert client.get("/v2/models/nope/ready").status_code == 404
        response = client.post(
            f"/v2/models/{endpoint_name}/infer", json={"id": "req-7", "inputs": inputs}
        )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == "req-7" and response.json()["model_name"] == endpoint_name
    assert response.headers["x-amzn-sagemaker-inference-id"] == "req-7"
    with live.client() as client:
        for odd in ("line\nbreak", "naïve", "x" * 5000):  # any JSON string is a valid id
            answer = client.post(
                f"/v2/models/{endpoint_name}/infer", json={"id": odd, "inputs": inputs}
            )
            assert answer.status_code == 200 and answer.json()["id"] == odd
            assert "x-amzn-sagemaker-inference-id" not in answer.headers
    outputs = {o["name"]: o for o in response.json()["outputs"]}
    assert outputs["predictions"]["shape"] == [2]
    assert outputs["probabilities"]["shape"] == [2, 2]
    assert len(outputs["probabilities"]["data"]) == 4


def test_container_contract(
    gateway_factory: Callable[..., LiveGateway],
    churn_workspace: Any,
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
) -> None:
    with Workspace.open(churn_workspace) as ws:
        ws.endpoints.create(endpoint_name, [VariantConfig("only", "churn:2")])
    live = gateway_factory(GatewayOptions(endpoint=endpoint_name, access_log=False))
    with live.client() as client:
        assert client.get("/ping").status_code == 200
        response = client.post("/invocations", json=churn_rows[0])
        assert response.status_code == 200, response.text
        assert response.json()["variant"] == "only"


def test_sticky_key_and_cors(
    gateway_factory: Callable[..., LiveGateway],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
) -> None:
    live = gateway_factory(GatewayOptions(cors_origins=("https://app.example",), access_log=False))
    live.workspace.endpoints.create(
        endpoint_name, [VariantConfig("a", "churn:1"), VariantConfig("b", "churn:2")]
    )
    wait_served(live, endpoint_name, 1)
    path = f"/endpoints/{endpoint_name}/invocations"
    with live.client() as client:
        for key in ("alice", "bob", "carol"):
            seen = {
                client.post(
                    path, json=churn_rows[0], headers={"X-Modelyard-Sticky-Key": key}
                ).headers["x-modelyard-variant"]
                for _ in range(8)
            }
            assert len(seen) == 1, (key, seen)
        preflight = client.options(
            path,
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        answer = client.post(path, json=churn_rows[0], headers={"Origin": "https://app.example"})
        assert answer.headers["access-control-allow-origin"] == "https://app.example"
        other = client.post(path, json=churn_rows[0], headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_management_api(
    gateway_factory: Callable[..., LiveGateway],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
) -> None:
    live = gateway_factory()
    with live.client() as client:
        created = client.post(
            "/api/endpoints",
            json={
                "name": endpoint_name,
                "variants": [{"model": "churn:1", "name": "a"}, {"model": "churn:2", "weight": 3}],
                "capture_percent": 10,
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["served_version"] == 1  # loaded before the answer
        assert created.json()["weights"] == {"a": 0.25, "churn-2": 0.75}
        assert client.post(f"/endpoints/{endpoint_name}/predict", json=churn_rows[0]).is_success
        duplicate = client.post(
            "/api/endpoints", json={"name": endpoint_name, "variants": [{"model": "churn:1"}]}
        )
        assert duplicate.status_code == 409
        assert duplicate.json()["error"]["type"] == "AlreadyExistsError"
        bad = client.patch(f"/api/endpoints/{endpoint_name}", json={"weights": {"a": -1}})
        assert bad.status_code == 422 and "weights" in bad.json()["error"]["message"]
        names = [e["name"] for e in client.get("/api/endpoints").json()]
        assert endpoint_name in names
        client.patch(f"/api/endpoints/{endpoint_name}", json={"capture_percent": 50})
        history = client.get(f"/api/endpoints/{endpoint_name}/history").json()
        assert [h["capture_percent"] for h in history] == [10, 50]
        assert client.delete(f"/api/endpoints/{endpoint_name}").status_code == 204
        gone = client.post(f"/endpoints/{endpoint_name}/predict", json=churn_rows[0])
        assert gone.status_code == 404  # no longer served, at once
        assert client.get(f"/api/endpoints/{endpoint_name}").status_code == 404
        kept = client.get(f"/api/endpoints/{endpoint_name}/history").json()
        assert [h["action"] for h in kept] == ["create", "update", "delete"]  # history stays
        assert client.get("/docs").status_code == 200
        assert "/api/endpoints" in client.get("/openapi.json").json()["paths"]


def test_pipeline_flavor_answers_like_onnx(
    churn_workspace: Any, churn_rows: list[dict[str, Any]]
) -> None:
    from modelyard.serving._schema import Signature

    with Workspace.open(churn_workspace) as ws:
        onnx = ws.models.load("churn:1")
        pipeline = ws.models.load("churn:1", prefer="pipeline")
    assert (onnx.flavor, pipeline.flavor) == ("onnx", "pipeline")
    from modelyard.serving._parse import from_json

    signature = Signature.from_manifest(onnx.manifest.to_dict())
    columns = signature.check(from_json(churn_rows[:20], signature.names), reject_unexpected=False)
    a, b = onnx.predict_columns(columns), pipeline.predict_columns(columns)
    assert a.probabilities is not None and b.probabilities is not None
    assert abs(a.probabilities - b.probabilities).max() < 1e-4


def test_a_variant_that_cannot_load_leaves_the_endpoint_serving(
    gateway_factory: Callable[..., LiveGateway],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
    tmp_path: Any,
) -> None:
    live = gateway_factory()
    models = live.workspace.models
    if not any(v.name == "broken" for v in models.list_versions("broken")):
        package = tmp_path / "broken"
        package.mkdir()
        (package / "model.json").write_text('{"note": "no task, no signature, no files"}')
        models.register(
            "broken", package, task="binary", algorithm="x", metrics={}, params={},
            lineage={}, flavors=["onnx"],
        )  # fmt: skip
    store = live.workspace.endpoints
    store.create(endpoint_name, [VariantConfig("a", "churn:1")])
    wait_served(live, endpoint_name, 1)
    store.update(endpoint_name, variants=[VariantConfig("b", "broken:1")])
    with live.client() as client:
        deadline = time.monotonic() + 30
        while client.get(f"/api/endpoints/{endpoint_name}").json()["load_error"] is None:
            assert time.monotonic() < deadline, "the load failure was not reported"
            time.sleep(0.05)
        described = client.get(f"/api/endpoints/{endpoint_name}").json()
        assert described["served_version"] == 1 and described["config_version"] == 2
        response = client.post(f"/endpoints/{endpoint_name}/invocations", json=churn_rows[0])
        assert response.status_code == 200 and response.json()["variant"] == "a"
        store.rollback(endpoint_name)  # back to a configuration that loads
        deadline = time.monotonic() + 30
        while client.get(f"/api/endpoints/{endpoint_name}").json()["served_version"] != 3:
            assert time.monotonic() < deadline, "the rollback was not served"
            time.sleep(0.05)
        assert client.get(f"/api/endpoints/{endpoint_name}").json()["load_error"] is None
