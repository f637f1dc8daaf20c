"""Wide listings read at 80 and 120 columns: nothing runs past the terminal, no header
is broken inside a word, columns left out are said so (--wide shows them), and a
wide table of rows is split into tables of consecutive columns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelyard import datasets
from modelyard.workspace import Workspace
from tests.conftest import Cli


def _at(width: int, workspace: Path, *args: str) -> str:
    env = {**os.environ, "COLUMNS": str(width), "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run(
        [sys.executable, "-m", "modelyard", "-w", str(workspace), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _fits(text: str, width: int) -> None:
    too_wide = [line for line in text.splitlines() if len(line) > width]
    assert too_wide == []


@pytest.fixture
def churn(cli: Cli, tmp_path: Path) -> Path:
    path = tmp_path / "churn.csv"
    datasets.churn(400, seed=3).to_csv(path, index=False)
    cli("data", "ingest", str(path), "--name", "churn", "--target", "churned")
    return cli.workspace


@pytest.mark.parametrize("width", [80, 120])
def test_data_head_splits_wide_rows_into_tables_that_fit(churn: Path, width: int) -> None:
    columns = list(datasets.churn(10, seed=3).columns)
    shown = _at(width, churn, "data", "head", "churn", "-n", "3")
    _fits(shown, width)
    for column in columns:  # every column, its header whole
        assert f" {column} " in shown
    parts = shown.count("churn (columns ")
    assert parts >= 2 and f"churn (columns {parts}/{parts})" in shown
    wide = _at(width, churn, "data", "head", "churn", "-n", "3", "--wide")
    assert "(columns " not in wide and wide.count("customer_id") == 1


@pytest.mark.parametrize("width", [80, 120])
def test_runs_list_leaves_out_columns_to_fit_and_says_so(
    workspace: Workspace, churn: Path, width: int
) -> None:
    metrics = {f"metric_{i:02d}": i / 10 for i in range(12)} | {"roc_auc": 0.91}
    with workspace.start_run("wide", name="many-metrics") as run:
        run.log_metrics(metrics)
    listed = _at(width, churn, "runs", "list")
    _fits(listed, width)
    assert " roc_auc " in listed and "many-metrics" in listed  # the headline metric stays
    assert "more columns: --wide or --json shows them" in listed
    every = _at(width, churn, "runs", "list", "--wide")
    assert "metric_11" in every and "more columns" not in every
    (record,) = json.loads(_at(width, churn, "runs", "list", "--json"))
    assert record["metrics"] == metrics


@pytest.mark.slow
@pytest.mark.parametrize("width", [80, 120])
def test_model_and_data_lists_fit(cli: Cli, churn: Path, width: int) -> None:
    cli("train", "churn", "--algorithm", "linear")
    listed = _at(width, churn, "model", "list")
    _fits(listed, width)
    assert "churn:1" in listed and " algorithm " in listed and " roc_auc " in listed
    _fits(_at(width, churn, "data", "list"), width)
    _fits(_at(width, churn, "data", "show", "churn"), width)
    # the commands that change a model print it as JSON on request too
    approved = json.loads(cli("model", "approve", "churn:1", "--json").stdout)
    assert approved["ref"] == "churn:1" and approved["status"] == "approved"
    aliased = json.loads(cli("model", "alias", "churn:1", "production", "--json").stdout)
    assert aliased["aliases"] == ["production"]
    removed = json.loads(cli("model", "alias", "churn", "production", "--remove", "--json").stdout)
    assert removed == {"model": "churn", "alias": "production", "removed": True}
