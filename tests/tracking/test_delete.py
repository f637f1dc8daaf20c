"""Deleting a run: refused while a model version came from it or it still runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.errors import ConflictError, NotFoundError
from modelyard.tracking import MetricPoint, RunStatus
from modelyard.workspace import Workspace


def _run(ws: Workspace) -> str:
    run_id = ws.runs.create("e")
    ws.runs.log_params(run_id, {"depth": 3})
    ws.runs.log_metrics(run_id, [MetricPoint("auc", 0.8, 0, 0.0)])
    ws.runs.set_tags(run_id, {"k": "v"})
    ws.runs.log_artifact(run_id, b"weights", "model.bin")
    return run_id


def test_delete_refused_while_held(any_workspace: Workspace, tmp_path: Path) -> None:
    ws = any_workspace
    held = _run(ws)
    with pytest.raises(ConflictError, match="still running"):
        ws.runs.delete(held)
    ws.runs.finish(held, RunStatus.FINISHED)
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "model.json").write_text("{}")
    ws.models.register(
        "m",
        package,
        task="binary",
        algorithm="xgboost",
        metrics={},
        params={},
        lineage={"run_id": held},
        flavors=["pipeline"],
        run_id=held,
    )
    with pytest.raises(ConflictError, match=rf"run {held[:8]} is in the lineage of model m:1"):
        ws.runs.delete(held)
    assert ws.runs.get(held).params == {"depth": "3"}

    free = _run(ws)
    ws.runs.finish(free, RunStatus.FINISHED)
    digest = ws.runs.get(free).artifacts[0].digest
    assert ws.runs.delete(free[:8]) == free
    with pytest.raises(NotFoundError):
        ws.runs.get(free)
    assert ws.artifacts.exists(digest)  # shared content is never deleted by a writer
    assert ws.runs.delete(held, force=True) == held
    assert ws.runs.list_runs() == []
