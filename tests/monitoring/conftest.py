"""A trained churn workspace, and captured traffic written in the gateway's layout.

Traffic is predicted by the registered model and written by the gateway's own
capture writer (``CaptureWriter``), with request times placed in past hours so
each hour is one window.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest

from modelyard import datasets
from modelyard.data import IngestOptions
from modelyard.serving import VariantConfig
from modelyard.serving._capture import CaptureRecord, CaptureWriter
from modelyard.serving._variant import prediction_body
from modelyard.training import TrainingSpec, train
from modelyard.workspace import Workspace

FIRST_HOUR = datetime(2026, 11, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def monitor_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with churn:1 (a good model) and churn:2 (a weak one): its path."""
    root = tmp_path_factory.mktemp("monitoring") / "ws"
    with Workspace.init(root) as ws:
        csv_path = root / "churn.csv"
        datasets.churn(4000, seed=1).to_csv(csv_path, index=False)
        ws.datasets.ingest(csv_path, "churn", IngestOptions(target="churned"))
        for params in ({"n_estimators": 80, "max_depth": 3}, {"n_estimators": 2, "max_depth": 1}):
            result = train(
                ws,
                TrainingSpec(
                    dataset="churn",
                    algorithm="xgboost",
                    params=params,
                    threshold="default",
                    allow_worse_than_baseline=True,
                ),
            )
            assert result.model is not None
    return root


@pytest.fixture
def ws(monitor_root: Path) -> Iterator[Workspace]:
    with Workspace.open(monitor_root) as workspace:
        yield workspace


@pytest.fixture
def endpoint(ws: Workspace, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh endpoint with variants a (churn:1) and b (churn:2); its monitors removed after."""
    name = "".join(c if c.isalnum() else "-" for c in request.node.name[:40]).strip("-")
    ws.endpoints.create(
        name,
        [VariantConfig("a", "churn:1", 1.0), VariantConfig("b", "churn:2", 1.0)],
        capture_percent=100,
    )
    yield name
    for monitor in ws.monitors.list():
        if monitor.endpoint == name:
            ws.monitors.delete(monitor.name)
    ws.endpoints.delete(name)


def client_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as a client sends them: the model's inputs only (no id, no target), JSON values."""
    out = []
    for row in frame.drop(columns=["churned", "customer_id"]).to_dict(orient="records"):
        out.append({k: _plain(v) for k, v in row.items()})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "isoformat"):
        return None if str(value) == "NaT" else value.isoformat()
    return value


def capture(
    ws: Workspace,
    endpoint: str,
    frame: pd.DataFrame,
    hour: datetime,
    *,
    variant: str = "a",
    model: str = "churn:1",
    prefix: str = "r",
    ids: list[str] | None = None,
) -> list[str]:
    """Predict ``frame`` with ``model`` and capture one request per row in ``hour``.

    Returns the inference ids (``ids`` when given), in row order.
    """
    loaded = ws.models.load(model)
    prediction = loaded.predict(frame.drop(columns=["churned"]))
    body = prediction_body(prediction)
    writer = CaptureWriter(ws.settings.state_dir / "capture")
    rows = client_rows(frame)
    given = ids
    ids = []
    step = 3500 / max(len(rows), 1)
    for i, row in enumerate(rows):
        inference_id = given[i] if given is not None else f"{prefix}-{hour:%d%H}-{i}"
        ids.append(inference_id)
        response = {
            "predictions": [body["predictions"][i]],
            "probabilities": [body["probabilities"][i]],
            "classes": body["classes"],
        }
        writer.offer(
            CaptureRecord(
                (hour + timedelta(seconds=i * step)).timestamp(),
                endpoint,
                variant,
                model,
                False,
                f"req-{inference_id}",
                inference_id,
                1.0,
                200,
                "application/json",
                orjson.dumps([row]).decode(),
                orjson.dumps(response).decode(),
            )
        )
    writer.close()
    assert writer.written == len(rows)
    return ids
