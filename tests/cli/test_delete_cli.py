"""``data delete``, ``runs delete``, ``model delete`` and ``runs artifacts`` as subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

from modelyard.workspace import Workspace
from tests.conftest import Cli


def _register(ws: Workspace, tmp_path: Path, **lineage: str) -> str:
    package = tmp_path / "pkg"
    package.mkdir(exist_ok=True)
    (package / "model.json").write_text("{}")
    version = ws.models.register(
        "m",
        package,
        task="binary",
        algorithm="xgboost",
        metrics={},
        params={},
        lineage=dict(lineage),
        flavors=["pipeline"],
        run_id=lineage.get("run_id"),
    )
    return version.ref


def test_data_delete(cli: Cli, workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    cli("data", "ingest", str(path), "--name", "d")
    _register(workspace, tmp_path, dataset="d:1")
    unconfirmed = cli("data", "delete", "d:1", check=False)
    assert unconfirmed.exit_code == 2
    assert "--yes" in unconfirmed.stderr + unconfirmed.stdout
    held = cli("data", "delete", "d:1", "--yes", check=False)
    assert held.exit_code == 4
    assert "in the lineage of model m:1" in held.stderr + held.stdout
    assert workspace.datasets.get("d:1").ref == "d:1"
    deleted = cli("data", "delete", "d:1", "--yes", "--force")
    assert "deleted dataset d:1" in deleted.stdout
    assert workspace.datasets.list_versions("d") == []


def test_runs_delete(cli: Cli, workspace: Workspace, tmp_path: Path) -> None:
    from modelyard.tracking import RunStatus

    run_id = workspace.runs.create("e")
    workspace.runs.finish(run_id, RunStatus.FINISHED)
    _register(workspace, tmp_path, run_id=run_id)
    unconfirmed = cli("runs", "delete", run_id[:8], check=False)
    assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.stderr + unconfirmed.stdout
    held = cli("runs", "delete", run_id[:8], "--yes", check=False)
    assert held.exit_code == 4
    assert "in the lineage of model m:1" in held.stderr + held.stdout
    deleted = cli("runs", "delete", run_id[:8], "--yes", "--force", "--json")
    assert json.loads(deleted.stdout) == {"deleted": run_id}
    assert workspace.runs.list_runs() == []


def test_model_delete(cli: Cli, workspace: Workspace, tmp_path: Path) -> None:
    ref = _register(workspace, tmp_path)
    workspace.models.set_alias(ref, "production")
    unconfirmed = cli("model", "delete", ref, check=False)
    assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.stderr + unconfirmed.stdout
    held = cli("model", "delete", ref, "--yes", check=False)
    assert held.exit_code == 4
    assert "model m:1 is held by alias production" in held.stderr + held.stdout
    deleted = cli("model", "delete", ref, "--yes", "--force")
    assert "deleted model m:1" in deleted.stdout
    assert workspace.models.list_versions("m") == []


def test_runs_artifacts_list_and_verified_download(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    from modelyard.tracking import RunStatus

    run_id = workspace.runs.create("e")
    workspace.runs.log_artifact(run_id, b"weights", "model.bin")
    workspace.runs.log_artifact(run_id, b'{"auc": 0.8}', "reports/metrics.json")
    workspace.runs.finish(run_id, RunStatus.FINISHED)
    listing = json.loads(cli("runs", "artifacts", run_id[:8], "--json").stdout)
    assert [(a["name"], a["size_bytes"]) for a in listing] == [
        ("model.bin", 7),
        ("reports/metrics.json", 12),
    ]
    assert "reports/metrics.json" in cli("runs", "artifacts", run_id[:8]).stdout
    out = tmp_path / "out"
    downloaded = cli("runs", "artifacts", run_id[:8], "--output", str(out))
    assert "downloaded 2 artifact(s)" in downloaded.stdout
    assert (out / "model.bin").read_bytes() == b"weights"
    assert (out / "reports" / "metrics.json").read_bytes() == b'{"auc": 0.8}'
    # a tampered stored file is refused by its hash, and nothing is written
    digest = next(a["digest"] for a in listing if a["name"] == "model.bin")
    workspace.artifacts.local_path(digest).write_bytes(b"tampered")
    again = tmp_path / "again"
    refused = cli("runs", "artifacts", run_id[:8], "--output", str(again), check=False)
    assert refused.exit_code == 5
    assert not (again / "model.bin").exists()
