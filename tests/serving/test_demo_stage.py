"""The demo's serving stage on its own (the whole demo runs in tests/cli/test_demo.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard import datasets
from modelyard.cli._demo import _Tour
from modelyard.cli._demo_serving import serve_stage
from modelyard.data import IngestOptions
from modelyard.training import TrainingSpec, train
from modelyard.workspace import Workspace


@pytest.mark.slow
def test_serve_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Workspace.init(tmp_path / "ws") as ws:
        datasets.churn(1000, seed=2).to_csv(tmp_path / "churn.csv", index=False)
        version, _ = ws.datasets.ingest(
            tmp_path / "churn.csv", "churn", IngestOptions(target="churned")
        )
        model = train(
            ws, TrainingSpec(dataset=version.ref, algorithm="xgboost", params={"n_estimators": 10})
        ).model
        assert model is not None
        tour = _Tour(ws, tmp_path, 1000, {"churn": version.ref, "model:churn": model.ref})
        serve_stage(tour)
        history = ws.endpoints.history("churn-api")
    out = capsys.readouterr().out
    assert "300 requests over HTTP" in out and "challenger" in out
    assert "without a restart → challenger: 50" in out
    assert [h.action for h in history] == ["create", "update", "rollback"]
    assert "700 records" in out  # 350 answered and 350 shadow answers, flushed on shutdown
