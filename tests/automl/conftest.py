"""Workspaces holding small built-in datasets for the searches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard import datasets
from modelyard.data import IngestOptions
from modelyard.workspace import Workspace


@pytest.fixture(scope="module")
def search_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace with churn (600 rows) and houses (400 rows), random splits."""
    root: Path = tmp_path_factory.mktemp("automl")
    ws = Workspace.init(root / "ws")
    churn = root / "churn.csv"
    datasets.churn(600, seed=3).to_csv(churn, index=False)
    ws.datasets.ingest(churn, "churn", IngestOptions(target="churned"))
    houses = root / "houses.parquet"
    datasets.houses(400, seed=3).to_parquet(houses, index=False)
    ws.datasets.ingest(houses, "houses", IngestOptions(target="price"))
    yield ws
    ws.close()
