"""spotcheck, tune and auto through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelyard import datasets
from tests.conftest import Cli


@pytest.fixture
def churn_cli(cli: Cli, tmp_path: Path) -> Cli:
    path = tmp_path / "churn.csv"
    datasets.churn(500, seed=4).to_csv(path, index=False)
    cli("data", "ingest", str(path), "--name", "churn", "--target", "churned")
    return cli


def test_spotcheck_prints_a_leaderboard_and_json(churn_cli: Cli) -> None:
    args = ["spotcheck", "churn", "--folds", "2", "-a", "linear", "-a", "decision_tree"]
    shown = churn_cli(*args)
    assert "Spot-check of churn:1" in shown.stdout and "roc_auc (mean ± std)" in shown.stdout
    assert "linear" in shown.stdout and "decision_tree" in shown.stdout
    data = json.loads(churn_cli(*args, "--json").stdout)
    board = data["leaderboard"]
    assert [e["algorithm"] for e in board] != [] and {e["status"] for e in board} == {"finished"}
    assert board[0]["mean"] >= board[1]["mean"]
    assert data["metric"] == "roc_auc" and data["rows"] == 425


def test_spotcheck_bad_input_is_one_line(churn_cli: Cli) -> None:
    result = churn_cli("spotcheck", "churn", "--folds", "1", check=False)
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "at least 2 folds" in lines[0]
    missing = churn_cli("spotcheck", "nope", check=False)
    assert missing.exit_code != 0 and "nope" in missing.stderr


def _trials(workspace: Path) -> tuple[list[str], dict[int, tuple[str, float | None]]]:
    """The studies of the workspace and, of the only one, each trial's state and value."""
    import optuna

    from modelyard.automl._study import storage
    from modelyard.workspace import Workspace

    ws = Workspace.open(workspace)
    try:
        with storage(ws) as store:
            names = optuna.get_all_study_names(store)
            if not names:
                return names, {}
            study = optuna.load_study(study_name=names[0], storage=store)
            return names, {t.number: (t.state.name, t.value) for t in study.trials}
    finally:
        ws.close()


@pytest.mark.slow
def test_tune_killed_with_sigkill_resumes_without_losing_or_repeating(churn_cli: Cli) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    command = [
        sys.executable, "-m", "modelyard", "-w", str(churn_cli.workspace), "tune", "churn",
        "-a", "decision_tree", "--trials", "40", "--workers", "1", "--folds", "2",
        "--pruner", "none", "--json",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 240
        finished: dict[int, tuple[str, float | None]] = {}
        while time.monotonic() < deadline:
            _, trials = _trials(churn_cli.workspace)
            finished = {n: t for n, t in trials.items() if t[0] == "COMPLETE"}
            if len(finished) >= 2:
                break
            assert process.poll() is None, "tune ended before it was killed"
            time.sleep(0.5)
        assert len(finished) >= 2
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    names, before = _trials(churn_cli.workspace)
    kept = {n: t for n, t in before.items() if t[0] == "COMPLETE"}
    total = len(kept) + 2
    result = churn_cli("tune", "--resume", names[0], "--trials", str(total), "--json")
    data = json.loads(result.stdout)
    assert data["finished"] == total
    told = [t["number"] for t in data["trials"]]
    assert len(told) == 2 and min(told) > max(before)  # numbering continues after the dead
    _, after = _trials(churn_cli.workspace)
    assert {n: t for n, t in after.items() if n in kept} == kept  # nothing lost or redone
    assert [after[n][0] for n in before if n not in kept] == ["FAIL"] * (len(before) - len(kept))
    again = churn_cli("tune", "--resume", names[0], "--trials", str(total), check=False)
    assert again.exit_code != 0 and "is finished" in again.stderr
    unknown = churn_cli("tune", "--resume", "f00d", check=False)
    assert unknown.exit_code != 0 and "no tuning study 'f00d'" in unknown.stderr


@pytest.mark.slow
@pytest.mark.parametrize("refit_all", [False, True])
def test_auto_registers_within_its_budget_with_lineage(churn_cli: Cli, refit_all: bool) -> None:
    import time

    started = time.monotonic()
    extra = ["--refit-all"] if refit_all else []
    result = churn_cli(
        "auto", "churn", "--budget", "20s", "--require", "roc_auc>=0.6", *extra, "--json"
    )
    elapsed = time.monotonic() - started
    data = json.loads(result.stdout)
    assert data["passed"] and data["model"]["status"] == "pending"
    assert data["test_metrics"]["roc_auc"] >= 0.6
    status = {e["algorithm"]: e["status"] for e in data["leaderboard"]}
    assert status["linear"] == status["lightgbm"] == "finished"  # whatever the deadline
    # the search and the final fit use the budget (most of it: not a share left unused),
    # and the whole command, start-up and exit included, ends within budget + 10 s
    assert 20 * 0.75 <= data["seconds"] <= 20 + 10
    assert elapsed <= 20 + 10
    shown = json.loads(churn_cli("model", "show", data["model"]["ref"], "--json").stdout)
    lineage = shown["lineage"]  # the registered version names the search that chose it
    assert lineage["automl_run"] == data["run_id"] and lineage["studies"] == data["studies"]
    assert lineage["run_id"] == data["model"]["run_id"] and lineage["dataset"] == "churn:1"
    # the winner learns from training and validation rows, and the test rows with --refit-all
    splits = ["train", "validation", "test"] if refit_all else ["train", "validation"]
    assert lineage["fitted_on"] == splits
    from modelyard.workspace import Workspace

    ws = Workspace.open(churn_cli.workspace)
    try:
        training = ws.runs.get(data["model"]["run_id"])
        spec = json.loads(ws.runs.artifact_bytes(training.id, "training_spec.json"))
        assert spec["refit"] is True and spec["refit_all"] is refit_all
        assert training.tags["automl_run"] == data["run_id"]  # the search, as lineage
        assert ws.runs.get(data["run_id"]).tags["automl"] == "spotcheck"
    finally:
        ws.close()


def test_auto_with_a_budget_too_small_registers_nothing(churn_cli: Cli) -> None:
    result = churn_cli("auto", "churn", "--budget", "2s", check=False)
    assert result.exit_code != 0
    assert "too small for even one fit" in result.stderr
    assert json.loads(churn_cli("model", "list", "--json").stdout) == []


def test_tune_searches_the_space_a_yaml_file_narrows(churn_cli: Cli, tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text("max_depth: {low: 2, high: 3}\nmin_samples_leaf: {choices: [4, 9]}\n")
    args = ["tune", "churn", "-a", "decision_tree", "--trials", "3", "--folds", "2"]
    data = json.loads(churn_cli(*args, "--space", str(space), "--json").stdout)
    assert len(data["trials"]) == 3
    for trial in data["trials"]:
        assert trial["params"]["max_depth"] in (2, 3)
        assert trial["params"]["min_samples_leaf"] in (4, 9)
    space.write_text("max_dept: {low: 2, high: 3}\n")
    typo = churn_cli(*args, "--space", str(space), check=False)
    assert typo.exit_code != 0 and "unknown parameter(s) of decision_tree: max_dept" in typo.stderr


def test_tune_reports_its_study_as_html(churn_cli: Cli, tmp_path: Path) -> None:
    args = ["tune", "churn", "-a", "decision_tree", "--trials", "3", "--folds", "2"]
    data = json.loads(churn_cli(*args, "--pruner", "none", "--json").stdout)
    assert data["finished"] == 3
    out = tmp_path / "artifacts"
    churn_cli("runs", "artifacts", data["run_id"], "--output", str(out))
    page = (out / "study.html").read_text()
    for plot in ("history", "importance", "parallel"):
        assert f'id="{plot}-graph"' in page
    assert data["study"] in page and "Best parameters" in page
    for name, value in data["best_params"].items():
        assert f"<td>{name}</td><td>{value}</td>" in page
    assert "cdn" not in page.lower().split("<body>")[1]  # Plotly inline: opens offline


def test_tune_draws_a_live_table_on_a_terminal(churn_cli: Cli) -> None:
    """stderr a real pseudo-terminal: the trials are a table redrawn in place, not lines."""
    import os
    import subprocess
    import sys

    command = [
        sys.executable, "-m", "modelyard", "-w", str(churn_cli.workspace), "tune", "churn",
        "-a", "decision_tree", "--trials", "2", "--folds", "2", "--pruner", "none",
    ]  # fmt: skip
    leader, follower = os.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "160", "LINES": "40"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: every holder of the terminal has closed it
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    stdout = process.communicate(timeout=300)[0].decode()
    assert process.returncode == 0
    drawn = screen.decode(errors="replace")
    assert "Tuning: 2 trial(s) told, best" in drawn and "max_depth=" in drawn
    assert "\x1b[" in drawn  # cursor movement: redrawn in place
    assert "trial 0:" not in drawn  # the plain lines are for pipes and files
    assert "Best parameters (decision_tree)" in stdout
    study = stdout.split("tune --resume ")[1].split()[0]
    piped = churn_cli("tune", "--resume", study, "--trials", "3")  # stderr a pipe: lines
    line = next(x for x in piped.stderr.splitlines() if x.startswith("trial 2: "))
    assert "max_depth" in line and "(best 0." in line


RECIPE = """
steps:
  - drop: [customer_id]
  - log1p: [total_charges]
  - ratio: {name: charge_per_month, numerator: total_charges, denominator: tenure_months}
  - date_parts: {column: signup_date, parts: [month], days_since: true}
  - filter: "tenure_months >= 2"
"""


def _study_recipe(workspace: Path, study: str) -> dict[str, object] | None:
    import optuna

    from modelyard.automl._study import storage
    from modelyard.workspace import Workspace

    ws = Workspace.open(workspace)
    try:
        with storage(ws) as store:
            loaded = optuna.load_study(study_name=study, storage=store)
            recipe: dict[str, object] | None = loaded.user_attrs["modelyard"]["recipe"]
            return recipe
    finally:
        ws.close()


def test_spotcheck_and_tune_search_with_a_recipe_a_resumed_study_keeps(
    churn_cli: Cli, tmp_path: Path
) -> None:
    import yaml

    recipe = tmp_path / "features.yaml"
    recipe.write_text(RECIPE)
    args = ["spotcheck", "churn", "--folds", "2", "-a", "linear", "-a", "decision_tree"]
    plain = json.loads(churn_cli(*args, "--json").stdout)
    board = json.loads(churn_cli(*args, "--recipe", str(recipe), "--json").stdout)
    assert {e["status"] for e in board["leaderboard"]} == {"finished"}
    assert board["rows"] < plain["rows"] == 425  # the filter keeps tenure_months >= 2
    assert board["leaderboard"] != plain["leaderboard"]
    out = tmp_path / "spotcheck"
    churn_cli("runs", "artifacts", board["run_id"], "--output", str(out))
    assert json.loads((out / "recipe.json").read_text()) == yaml.safe_load(RECIPE)

    tune = ["tune", "churn", "-a", "decision_tree", "--folds", "2", "--pruner", "none"]
    first = json.loads(churn_cli(*tune, "--trials", "2", "--recipe", str(recipe), "--json").stdout)
    assert first["finished"] == 2
    assert _study_recipe(churn_cli.workspace, first["study"]) == yaml.safe_load(RECIPE)
    recipe.write_text("steps:\n  - drop: [no_such_column]\n")  # the study keeps its own copy
    resumed = churn_cli("tune", "--resume", first["study"], "--trials", "3", "--json")
    again = json.loads(resumed.stdout)
    assert again["finished"] == 3 and len(again["trials"]) == 1
    out = tmp_path / "resumed"
    churn_cli("runs", "artifacts", again["run_id"], "--output", str(out))
    assert json.loads((out / "recipe.json").read_text()) == yaml.safe_load(RECIPE)
    both = churn_cli("tune", "--resume", first["study"], "--recipe", str(recipe), check=False)
    assert both.exit_code != 0 and "a resumed study keeps its own dataset and recipe" in both.stderr


def test_a_bad_recipe_is_one_line_and_records_nothing(churn_cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - drop: [customer_id]\n  - log1p: [no_such_column]\n")
    for command in (
        ["spotcheck", "churn"],
        ["tune", "churn", "-a", "decision_tree", "--trials", "2"],
        ["auto", "churn", "--budget", "20s"],
    ):
        result = churn_cli(*command, "--recipe", str(bad), check=False)
        assert result.exit_code != 0
        assert result.stderr.strip() == "error: recipe step 2 (log1p): no column 'no_such_column'"
    assert json.loads(churn_cli("model", "list", "--json").stdout) == []
    assert json.loads(churn_cli("runs", "list", "--json").stdout) == []
    assert _trials(churn_cli.workspace)[0] == []  # no study either


@pytest.mark.slow
def test_auto_with_a_recipe_registers_a_model_that_replays_it(
    churn_cli: Cli, tmp_path: Path
) -> None:
    import yaml

    recipe = tmp_path / "features.yaml"
    recipe.write_text(RECIPE)
    result = churn_cli("auto", "churn", "--budget", "15s", "--recipe", str(recipe), "--json")
    data = json.loads(result.stdout)
    assert data["model"] is not None
    ref = data["model"]["ref"]
    shown = json.loads(churn_cli("model", "show", ref, "--json").stdout)
    steps = "\n".join(shown["lineage"]["recipe"])  # the recipe as the final job fitted it
    assert "charge_per_month" in steps and "date_parts(signup_date" in steps
    assert "fitted recipe step" in churn_cli("model", "show", ref).stdout
    from modelyard.workspace import Workspace

    ws = Workspace.open(churn_cli.workspace)
    try:
        spec = json.loads(ws.runs.artifact_bytes(data["model"]["run_id"], "training_spec.json"))
        assert spec["preprocessing"]["recipe"] == yaml.safe_load(RECIPE)  # the final job's
        searched = json.loads(ws.runs.artifact_bytes(data["run_id"], "recipe.json"))
        assert searched == yaml.safe_load(RECIPE)  # and the search's
    finally:
        ws.close()
    new = tmp_path / "new.csv"
    datasets.churn(20, seed=9).drop(columns=["churned"]).to_csv(new, index=False)
    out = tmp_path / "scored.csv"
    churn_cli("model", "predict", ref, "--input", str(new), "-o", str(out))
    assert len(out.read_text().splitlines()) == 21  # the package replays the recipe
