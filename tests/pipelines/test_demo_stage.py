"""The demo's closing stage on its own (the whole demo runs in tests/cli/test_demo.py):
a pipeline retrains churn, its re-run is all cache hits, and the candidate reaches
churn-api behind a guarded canary on a real gateway while a client calls it."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard import datasets
from modelyard.cli._demo import _Tour
from modelyard.cli._demo_loop import loop_stage
from modelyard.data import IngestOptions
from modelyard.serving import VariantConfig
from modelyard.training import TrainingSpec, train
from modelyard.workspace import Workspace


@pytest.mark.slow
def test_loop_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Workspace.init(tmp_path / "ws") as ws:
        datasets.churn(1000, seed=7).to_csv(tmp_path / "churn.csv", index=False)
        version, _ = ws.datasets.ingest(
            tmp_path / "churn.csv", "churn", IngestOptions(target="churned")
        )
        champion = train(ws, TrainingSpec(dataset=version.ref, algorithm="linear")).model
        assert champion is not None
        ws.endpoints.create(
            "churn-api",
            [
                VariantConfig("current", champion.ref, 0.8),
                VariantConfig("challenger", champion.ref, 0.2),
                VariantConfig("shadow", champion.ref, shadow=True),
            ],
        )
        loop_stage(_Tour(ws, tmp_path, 1000))
        history = ws.endpoints.history("churn-api")
        final = ws.endpoints.get("churn-api").config
    out = capsys.readouterr().out
    assert "4 of 4 steps reused from the cache" in out
    assert "better (+" in out, out
    assert "0 failed" in out and "retrained" in out
    assert [h.action for h in history] == ["create", "update", "update", "update"]
    assert (history[-1].actor or "").startswith("deploy guard ")
    assert (history[-1].reason or "").startswith("promoted: no alarm in 2 step(s)")
    assert [(v.name, v.shadow) for v in final.variants] == [("retrained", False), ("shadow", True)]
    assert "now serves churn-api" in out
