"""``data delete``, ``runs delete``, ``model delete``, ``endpoint delete`` and ``runs artifacts``
as subprocesses."""

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


def test_endpoint_delete_keeps_its_history_and_the_name_can_be_used_again(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    ref = _register(workspace, tmp_path)
    cli("endpoint", "create", "api", "--variant", ref)
    workspace.endpoints.update("api", capture_percent=50)
    unconfirmed = cli("endpoint", "delete", "api", check=False)
    assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.stderr + unconfirmed.stdout
    assert workspace.endpoints.get("api").config_version == 2  # nothing changed
    deleted = cli("endpoint", "delete", "api", "--yes")
    assert "deleted endpoint api" in deleted.stdout and "history" in deleted.stdout
    history = json.loads(cli("endpoint", "history", "api", "--json").stdout)
    assert [(h["version"], h["action"]) for h in history] == [
        (1, "create"),
        (2, "update"),
        (3, "delete"),
    ]
    assert history[-1]["capture_percent"] == 50  # the configuration it had when deleted
    assert "delete" in cli("endpoint", "history", "api").stdout
    shown = cli("endpoint", "show", "api", check=False)
    assert shown.exit_code == 3 and "deleted" in shown.stderr
    assert json.loads(cli("endpoint", "list", "--json").stdout) == []
    [listed] = json.loads(cli("endpoint", "list", "--all", "--json").stdout)
    assert listed["name"] == "api" and listed["deleted_at"] is not None
    again = cli("endpoint", "delete", "api", "--yes", check=False)
    assert again.exit_code == 3
    # the name again: its history goes on (a gateway that served configuration 2
    # sees a new number), and a rollback stays inside the new life
    created = json.loads(cli("endpoint", "create", "api", "--variant", ref, "--json").stdout)
    assert created["config_version"] == 4 and created["deleted_at"] is None
    actions = [h.action for h in workspace.endpoints.history("api")]
    assert actions == ["create", "update", "delete", "create"]
    refused = cli("endpoint", "rollback", "api", check=False)
    assert refused.exit_code == 4 and "created again" in refused.stderr


def test_data_ingest_after_a_delete_takes_the_next_number(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    cli("data", "ingest", str(path), "--name", "d")
    cli("data", "delete", "d:1", "--yes")
    again = json.loads(cli("data", "ingest", str(path), "--name", "d", "--json").stdout)
    assert again["ref"] == "d:2"  # the same file: d:1 may still be named somewhere
