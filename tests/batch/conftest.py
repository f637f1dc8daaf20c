"""A workspace with a small churn model (10 trees, 1,000 rows), trained once per module."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from modelyard import datasets
from modelyard.data import IngestOptions
from modelyard.execution import LocalExecutor
from modelyard.training import TrainingSpec, train
from modelyard.workspace import Workspace
from tests.ray_fixture import ray_session

__all__ = ["new_customers", "ray_session"]


def new_customers(rows: int, seed: int) -> pd.DataFrame:
    """Customers to score: the churn generator's rows without the label."""
    return datasets.churn(rows, seed=seed).drop(columns=["churned"])


@pytest.fixture(scope="module")
def model_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace holding ``churn:production``, a 10-tree XGBoost with an ONNX flavor."""
    root = tmp_path_factory.mktemp("batch")
    ws = Workspace.init(root / "ws")
    source = root / "churn.csv"
    datasets.churn(1000, seed=3).to_csv(source, index=False)
    ws.datasets.ingest(source, "churn", IngestOptions(target="churned"))
    spec = TrainingSpec(dataset="churn", algorithm="xgboost", params={"n_estimators": 10})
    result = train(ws, spec)
    assert result.model is not None and "onnx" in result.model.flavors
    ws.models.set_alias(result.model.ref, "production")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def local_executor() -> Iterator[LocalExecutor]:
    """Two worker processes shared by a module's tests (each loads the model once)."""
    with LocalExecutor(max_workers=2) as executor:
        yield executor
