"""The Open Inference Protocol through its official client, tritonclient's HTTP client,
in binary tensor mode (its default) and JSON mode, against a real gateway."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from modelyard.serving import VariantConfig
from tests._markers import import_or_skip
from tests.serving.conftest import LiveGateway, wait_served

http: Any = import_or_skip("tritonclient.http", "the tritonclient[http] dev extra")
from tritonclient.utils import InferenceServerException  # noqa: E402

_NUMPY = {"FP64": np.float64, "BOOL": np.bool_}


@pytest.fixture
def live(gateway_factory: Callable[..., LiveGateway], endpoint_name: str) -> LiveGateway:
    gateway = gateway_factory()
    gateway.workspace.endpoints.create(
        endpoint_name,
        [VariantConfig("a", "churn:1", 1.0), VariantConfig("b", "churn:2", 1.0)],
    )
    wait_served(gateway, endpoint_name, 1)
    return gateway


def _client(live: LiveGateway) -> Any:
    return http.InferenceServerClient(live.url.removeprefix("http://"), network_timeout=60)


def _rows(churn_rows: list[dict[str, Any]], inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose text columns are all present (a BYTES tensor has no null), numbers
    missing among them (sent as NaN)."""
    text = [i["name"] for i in inputs if i["datatype"] == "BYTES"]
    rows = [r for r in churn_rows if all(r[c] is not None for c in text)]
    with_missing = [r for r in rows if any(r[i["name"]] is None for i in inputs)]
    chosen = [with_missing[0], *[r for r in rows if r is not with_missing[0]][:4]]
    assert any(r[i["name"]] is None for r in chosen for i in inputs)
    return chosen


def _inputs(metadata: dict[str, Any], rows: list[dict[str, Any]], binary: bool) -> list[Any]:
    tensors = []
    for spec in metadata["inputs"]:
        name, datatype = spec["name"], spec["datatype"]
        values = [r[name] for r in rows]
        if datatype == "BYTES":
            array = np.array([str(v).encode() for v in values], dtype=np.object_)
        elif datatype == "FP64":
            array = np.array([math.nan if v is None else v for v in values], dtype=np.float64)
        else:
            array = np.array(values, dtype=_NUMPY[datatype])
        tensor = http.InferInput(name, [len(rows)], datatype)
        tensor.set_data_from_numpy(array, binary_data=binary)
        tensors.append(tensor)
    return tensors


def _reference(live: LiveGateway, name: str, rows: list[dict[str, Any]], variant: str) -> Any:
    with live.client() as client:
        answer = client.post(
            f"/endpoints/{name}/predict", json=rows, headers={"X-Modelyard-Variant": variant}
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_tritonclient_infer(
    live: LiveGateway, endpoint_name: str, churn_rows: list[dict[str, Any]], binary: bool
) -> None:
    client = _client(live)
    try:
        assert client.is_server_live() and client.is_server_ready()
        assert client.is_model_ready(endpoint_name)
        metadata = client.get_model_metadata(endpoint_name)
        assert metadata["versions"] == ["churn:1", "churn:2"]
        outputs = {o["name"]: o["datatype"] for o in metadata["outputs"]}
        assert outputs == {"predictions": "FP64", "probabilities": "FP64"}
        rows = _rows(churn_rows, metadata["inputs"])
        reference = _reference(live, endpoint_name, rows, "b")
        requested = [
            http.InferRequestedOutput("predictions", binary_data=binary),
            http.InferRequestedOutput("probabilities", binary_data=binary),
        ]
        result = client.infer(
            endpoint_name,
            _inputs(metadata, rows, binary),
            model_version="churn:2",
            outputs=requested,
            request_id="req-9",
        )
        answer = result.get_response()
        assert answer["model_version"] == "churn:2" and answer["id"] == "req-9"
        for output in answer["outputs"]:
            assert output["datatype"] == outputs[output["name"]]
            assert ("binary_data_size" in output.get("parameters", {})) is binary
        probabilities = result.as_numpy("probabilities")
        assert probabilities.shape == (len(rows), 2)
        np.testing.assert_allclose(probabilities, reference["probabilities"], atol=1e-6)
        assert result.as_numpy("predictions").tolist() == reference["predictions"]

        # no outputs named: tritonclient asks for every output in binary
        default = client.infer(
            endpoint_name, _inputs(metadata, rows, binary), model_version="b"
        ).get_response()
        assert all("binary_data_size" in o["parameters"] for o in default["outputs"])
        assert {o["name"] for o in default["outputs"]} == set(outputs)
    finally:
        client.close()


def test_tritonclient_reads_errors(
    live: LiveGateway, endpoint_name: str, churn_rows: list[dict[str, Any]]
) -> None:
    client = _client(live)
    try:
        metadata = client.get_model_metadata(endpoint_name, model_version="2")
        assert metadata["versions"] == ["churn:2"]
        assert client.is_model_ready(endpoint_name, "churn:1")
        rows = _rows(churn_rows, metadata["inputs"])
        inputs = _inputs(metadata, rows, True)
        bad = http.InferInput("tenure_months", [len(rows)], "BYTES")
        bad.set_data_from_numpy(np.array([b"long"] * len(rows), dtype=np.object_))
        inputs = [bad if t.name() == "tenure_months" else t for t in inputs]
        with pytest.raises(InferenceServerException) as caught:
            client.infer(endpoint_name, inputs)
        assert caught.value.status() == "422" and "tenure_months" in caught.value.message()
        with pytest.raises(InferenceServerException) as caught:
            client.infer(endpoint_name, inputs, model_version="churn:9")
        assert "no version 'churn:9'" in caught.value.message()
        assert "churn:1, churn:2" in caught.value.message()
        with pytest.raises(InferenceServerException) as caught:
            client.get_model_metadata("no-such-endpoint")
        assert caught.value.status() == "404" and "not found" in caught.value.message()
        with pytest.raises(InferenceServerException) as caught:
            client.get_model_metadata(endpoint_name, model_version="7")
        assert "no version" in caught.value.message()
    finally:
        client.close()


def test_binary_body_errors_name_the_problem(live: LiveGateway, endpoint_name: str) -> None:
    header = (
        b'{"inputs": [{"name": "tenure_months", "shape": [2], "datatype": "FP64",'
        b' "parameters": {"binary_data_size": 16}}]}'
    )
    path = f"/v2/models/{endpoint_name}/infer"
    cases = {
        "runs past": (header + b"\x00" * 8, len(header)),
        "add up to 16": (header + b"\x00" * 20, len(header)),
        "not a byte count": (header, len(header) + 5),
    }
    with httpx.Client(base_url=live.url, timeout=30) as client:
        for expected, (body, length) in cases.items():
            answer = client.post(
                path, content=body, headers={"Inference-Header-Content-Length": str(length)}
            )
            assert answer.status_code == 422, answer.text
            assert isinstance(answer.json()["error"], str) and expected in answer.json()["error"]
        wrong_type = header.replace(b'"FP64"', b'"FP99"')
        answer = client.post(
            path,
            content=wrong_type + b"\x00" * 16,
            headers={"Inference-Header-Content-Length": str(len(wrong_type))},
        )
        assert "FP99" in answer.json()["error"]


def test_binary_exchanges_are_captured_as_json(
    gateway_factory: Callable[..., LiveGateway],
    endpoint_name: str,
    churn_rows: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    import json

    import pyarrow.dataset as ds

    from modelyard.serving import GatewayOptions

    live = gateway_factory(GatewayOptions(access_log=False, capture_dir=tmp_path))
    live.workspace.endpoints.create(
        endpoint_name, [VariantConfig("a", "churn:1")], capture_percent=100
    )
    wait_served(live, endpoint_name, 1)
    client = _client(live)
    try:
        metadata = client.get_model_metadata(endpoint_name)
        rows = _rows(churn_rows, metadata["inputs"])
        result = client.infer(endpoint_name, _inputs(metadata, rows, True))
        probabilities = result.as_numpy("probabilities")
    finally:
        client.close()
    live.stop()  # a graceful shutdown writes every captured record
    table = ds.dataset(tmp_path, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 1
    request = json.loads(table.column("request")[0].as_py())
    sent = {t["name"]: t["data"] for t in request["inputs"]}
    assert sent["tenure_months"] == [float(r["tenure_months"]) for r in rows]
    assert sent["contract"] == [r["contract"] for r in rows]
    response = json.loads(table.column("response")[0].as_py())
    captured = {o["name"]: o["data"] for o in response["outputs"]}
    np.testing.assert_allclose(
        np.reshape(captured["probabilities"], (len(rows), 2)), probabilities, atol=1e-6
    )
