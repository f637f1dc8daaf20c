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
