"""A model trained with the acceptance recipe (date parts, ratio, log, bucket,
target encoding, TF-IDF) predicts alike through the SDK's flavors and through a
live gateway, one row and many, and through the batch CLI, over generated frames;
a value a step cannot take is a 422 naming it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard import datasets
from modelyard.data import IngestOptions
from modelyard.features import PreprocessOptions, Recipe
from modelyard.serving import GatewayOptions, VariantConfig
from modelyard.training import TrainingSpec, train
from modelyard.workspace import Workspace
from tests.conftest import Cli
from tests.features.test_user_recipe import ACCEPTANCE
from tests.serving.conftest import LiveGateway, _plain, start_gateway, wait_served


def _rows(n: int, seed: int) -> pd.DataFrame:
    frame = datasets.churn(n, seed=seed).drop(columns=["churned"])
    frame["review"] = datasets.reviews(n, seed=seed)["review"]
    return frame


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("recipe") / "ws"
    ws = Workspace.init(root)
    frame = datasets.churn(1500, seed=2)
    frame["review"] = datasets.reviews(1500, seed=2)["review"]
    path = root / "churn.csv"
    frame.to_csv(path, index=False)
    ws.datasets.ingest(path, "churn", IngestOptions(target="churned"))
    options = PreprocessOptions(recipe=Recipe(ACCEPTANCE))
    spec = TrainingSpec(dataset="churn", algorithm="xgboost", preprocessing=options)
    result = train(ws, spec)
    assert result.model is not None and "onnx" in result.model.flavors
    live = start_gateway(ws, GatewayOptions(access_log=False, poll_interval=0.2))
    ws.endpoints.create("recipe", [VariantConfig("a", result.model.ref)])
    wait_served(live, "recipe", 1)
    yield ws, result.model.ref, live
    live.stop()
    ws.close()


def _post(live: LiveGateway, rows: pd.DataFrame) -> httpx.Response:
    body = [{k: _plain(v) for k, v in row.items()} for row in rows.to_dict(orient="records")]
    with live.client() as client:
        return client.post("/endpoints/recipe/predict", json=body)


def _probabilities(response: httpx.Response) -> np.ndarray:
    assert response.status_code == 200, response.text
    answer = response.json()
    return np.asarray([p[1] for p in answer["probabilities"]], dtype=np.float64)


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 12), unseen=st.booleans())
def test_sdk_flavors_and_the_gateway_agree(served: Any, seed: int, n: int, unseen: bool) -> None:
    ws, ref, live = served
    rows = _rows(n, seed)
    if unseen:
        rows.loc[0, "plan_code"] = "PL-new"
        rows.loc[0, "review"] = "zyzzyva quokka"  # no word of the vocabulary: all zeros
    onnx = ws.models.load(ref, prefer="onnx").predict(rows).probabilities[:, 1]
    pipeline = ws.models.load(ref, prefer="pipeline").predict(rows).probabilities[:, 1]
    np.testing.assert_allclose(onnx, pipeline, atol=1e-6)
    many = _probabilities(_post(live, rows))
    one = np.concatenate([_probabilities(_post(live, rows.iloc[[i]])) for i in range(n)])
    np.testing.assert_array_equal(many, one)
    np.testing.assert_allclose(many, onnx, atol=1e-6)


def test_a_value_the_recipe_cannot_take_is_a_422(served: Any) -> None:
    _, _, live = served
    rows = _rows(3, seed=1)
    rows.loc[2, "total_charges"] = -5.0  # log1p needs > -1
    response = _post(live, rows)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"]["column"] == "total_charges"
    assert "column 'total_charges' must be greater than -1" in error["message"]


@settings(
    max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seeds=st.lists(st.integers(0, 10_000), min_size=1, max_size=3), n=st.integers(1, 40))
def test_batch_replays_the_recipe(served: Any, tmp_path: Path, seeds: list[int], n: int) -> None:
    ws, ref, _ = served
    rows = pd.concat([_rows(n, seed) for seed in seeds], ignore_index=True)
    rows["customer_id"] = [f"C{i}" for i in range(len(rows))]  # unique across the seeds
    rows.loc[0, "plan_code"] = "PL-new"
    rows.loc[0, "review"] = "zyzzyva quokka"
    with tempfile.TemporaryDirectory(dir=tmp_path) as scratch:  # one per example
        source, out = Path(scratch) / "rows.csv", Path(scratch) / "scored"
        rows.to_csv(source, index=False)
        cli = Cli(ws.settings.workspace)
        cli(
            "batch",
            "predict",
            "-m",
            ref,
            "-i",
            str(source),
            "-o",
            str(out),
            "--keep",
            "customer_id",
        )
        scored = pd.concat(pd.read_parquet(part) for part in sorted(out.glob("*.parquet")))
    scored = scored.set_index("customer_id").loc[rows["customer_id"]]
    expected = ws.models.load(ref, prefer="onnx").predict(rows).probabilities[:, 1]
    np.testing.assert_allclose(scored["proba_1"].to_numpy(), expected, atol=1e-6)
