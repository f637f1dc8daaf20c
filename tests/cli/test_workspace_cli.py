"""``modelyard init``, ``info``, ``db`` and ``runs`` through the real command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from modelyard.metadata import MetadataStore, head_revision
from modelyard.workspace import Workspace
from tests.conftest import Cli


def test_init_then_info(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    created = subprocess.run(
        [sys.executable, "-m", "modelyard", "init", str(root)], capture_output=True, text=True
    )
    assert created.returncode == 0, created.stderr
    assert "Created workspace" in created.stdout
    assert (root / "modelyard.toml").is_file() and (root / ".modelyard" / "modelyard.db").is_file()
    info = json.loads(Cli(root)("info", "--json").stdout)
    assert info["workspace"] == str(root.resolve())
    assert info["schema_revision"] == info["schema_head"] == head_revision()
    again = subprocess.run(
        [sys.executable, "-m", "modelyard", "init", str(root)], capture_output=True, text=True
    )
    assert again.returncode == 4 and "already a modelyard workspace" in again.stderr


def test_db_upgrade_brings_an_old_workspace_to_head(tmp_path: Path) -> None:
    root = tmp_path / "old"
    (root / ".modelyard").mkdir(parents=True)
    store = MetadataStore(f"sqlite:///{root / '.modelyard' / 'modelyard.db'}", auto_upgrade=False)
    store.upgrade("0001")
    store.dispose()
    cli = Cli(root)
    refused = cli("runs", "list", check=False)
    assert refused.exit_code == 6 and "modelyard db upgrade" in refused.stderr
    upgraded = cli("db", "upgrade")
    assert f"0001 -> {head_revision()}" in upgraded.stdout
    assert cli("runs", "list").exit_code == 0


@pytest.mark.parametrize("env_url", ["postgresql+psycopg://u@127.0.0.1:1/x?connect_timeout=2"])
def test_unreachable_database_in_settings(tmp_path: Path, env_url: str) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "modelyard.toml").write_text(f'database_url = "{env_url}"\n')
    result = Cli(root)("info", check=False)
    assert result.exit_code == 7
    assert "cannot connect to database" in result.stderr


def test_runs_list_show_compare(workspace: Workspace, cli: Cli) -> None:
    ids = []
    for lr in (0.1, 0.3):
        with workspace.start_run("cli-exp") as run:
            run.log_params({"lr": lr})
            run.log_metric("auc", 0.7 + lr)
        ids.append(run.id)
    listing = cli("runs", "list")
    assert "cli-exp" in listing.stdout and ids[0][:8] in listing.stdout
    shown = cli("runs", "show", ids[0][:8])
    assert "finished" in shown.stdout and "lr" in shown.stdout and "Python" in shown.stdout
    compared = json.loads(cli("runs", "compare", ids[0], ids[1], "--json").stdout)
    assert compared["params"] == [{"key": "lr", "a": "0.1", "b": "0.3"}]
    assert compared["metrics"][0]["b"] == pytest.approx(1.0)
    missing = cli("runs", "show", "deadbeef", check=False)
    assert missing.exit_code == 3 and "not found" in missing.stderr


def test_info_shows_the_version_and_what_the_workspace_holds(
    workspace: Workspace, cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("x,y\n1,a\n2,b\n3,a\n")
    cli("data", "ingest", str(source), "--name", "rows", "--no-split")
    source.write_text("x,y\n1,a\n2,b\n")
    cli("data", "ingest", str(source), "--name", "rows", "--no-split")
    for _ in range(3):
        with workspace.start_run("info-exp"):
            pass
    info = json.loads(cli("info", "--json").stdout)
    assert info["version"] == version("modelyard")
    assert info["counts"] == {
        "datasets": 1,
        "dataset_versions": 2,
        "experiments": 1,
        "runs": 3,
        "models": 0,
        "model_versions": 0,
        "endpoints": 0,
        "jobs": 0,
    }
    shown = cli("info").stdout
    assert version("modelyard") in shown
    assert re.search(r"dataset_versions\s+│\s+2\b", shown)


def test_init_and_db_current_print_json(tmp_path: Path) -> None:
    root = tmp_path / "json-ws"
    created = subprocess.run(
        [sys.executable, "-m", "modelyard", "init", str(root), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["workspace"] == str(root.resolve())
    current = json.loads(Cli(root)("db", "current", "--json").stdout)
    assert current == {"current": head_revision(), "head": head_revision()}
