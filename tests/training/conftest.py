"""Workspaces holding the built-in churn and houses datasets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard import datasets
from modelyard.data import IngestOptions
from modelyard.workspace import Workspace


@pytest.fixture(scope="module")
def trained_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace with churn (2,000 rows) and houses (1,500 rows) ingested."""
    root: Path = tmp_path_factory.mktemp("training")
    ws = Workspace.init(root / "ws")
    churn_csv = root / "churn.csv"
    datasets.churn(2000, seed=11).to_csv(churn_csv, index=False)
    ws.datasets.ingest(churn_csv, "churn", IngestOptions(target="churned"))
    houses_parquet = root / "houses.parquet"
    datasets.houses(1500, seed=11).to_parquet(houses_parquet, index=False)
    ws.datasets.ingest(houses_parquet, "houses", IngestOptions(target="price"))
    yield ws
    ws.close()
