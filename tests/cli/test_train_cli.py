"""Training, the registry and local prediction through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelyard import datasets
from modelyard.registry._archive import IDLE_DAYS
from tests.conftest import Cli


@pytest.fixture
def churn_cli(cli: Cli, tmp_path: Path) -> Cli:
    frame = datasets.churn(1500, seed=4)
    frame["constant"] = "same"
    frame["notes"] = [f"free text comment number {i} about the service" for i in range(len(frame))]
    path = tmp_path / "churn.csv"
    frame.to_csv(path, index=False)
    cli("data", "ingest", str(path), "--name", "churn", "--target", "churned")
    return cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--target", "no_such_column"],
            "target column 'no_such_column' is not in dataset churn:1",
        ),
        (["--target", "constant"], "target column 'constant' has a single value"),
        (["--target", "notes", "--task", "regression"], "target column 'notes' is text"),
        (["--target", "region", "--task", "regression"], "regression needs a numeric target"),
        (["--algorithm", "quantum_forest"], "unknown algorithm 'quantum_forest'"),
        (["--require", "auc_roc>=0.8"], "unknown metric 'auc_roc'"),
        (["--params", "{not json"], "--params is not valid JSON"),
    ],
)
def test_bad_training_input_is_one_line_and_registers_nothing(
    churn_cli: Cli, args: list[str], message: str
) -> None:
    result = churn_cli("train", "churn", *args, check=False)
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert message in lines[0]
    assert json.loads(churn_cli("model", "list", "--json").stdout) == []


@pytest.mark.slow
def test_train_alias_predict_reproduce(
    churn_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packages = churn_cli.workspace / ".modelyard" / "packages"  # the CLI's package cache
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))  # nothing is unpacked there
    trained = churn_cli("train", "churn", "--algorithm", "xgboost", "--require", "roc_auc>=0.7")
    assert "Registered churn:1 (xgboost, binary) status pending" in trained.stdout
    assert "ONNX flavor: yes (modelyard-trees, max difference" in trained.stdout
    failed = churn_cli("train", "churn", "-a", "linear", "--require", "roc_auc>=0.999", check=False)
    assert failed.exit_code == 10
    assert "churn:2 failed its success criteria: roc_auc" in failed.stderr
    models = json.loads(churn_cli("model", "list", "--json").stdout)
    assert [(m["ref"], m["status"]) for m in models] == [
        ("churn:2", "rejected"),
        ("churn:1", "pending"),
    ]
    refused = churn_cli("model", "alias", "churn:2", "production", check=False)
    assert refused.exit_code == 4 and "is rejected" in refused.stderr
    churn_cli("model", "approve", "churn:1", "--reason", "reviewed", "--by", "ana")
    churn_cli("model", "alias", "churn:1", "production")
    shown = json.loads(churn_cli("model", "show", "churn:production", "--json").stdout)
    assert shown["ref"] == "churn:1" and shown["aliases"] == ["production"]
    assert shown["status"] == "approved" and shown["status_by"] == "ana"
    text = churn_cli("model", "show", "churn:1").stdout
    assert "lineage: dataset churn:1" in text and "seed 42" in text
    history = json.loads(churn_cli("model", "history", "churn", "--json").stdout)
    assert [e["kind"] for e in history] == ["registered", "registered", "approved", "alias"]
    diff = json.loads(churn_cli("model", "diff", "churn:1", "churn:2", "--json").stdout)
    assert any(m["key"] == "roc_auc" for m in diff["metrics"])

    new = tmp_path / "new.parquet"
    datasets.churn(50, seed=8).drop(columns=["churned"]).to_parquet(new, index=False)
    out = tmp_path / "scored.csv"
    churn_cli(
        "model",
        "predict",
        "churn:production",
        "--input",
        str(new),
        "--output",
        str(out),
        "--keep",
        "customer_id",
    )
    lines = out.read_text().splitlines()
    assert lines[0] == "customer_id,prediction,proba_0,proba_1" and len(lines) == 51
    broken = tmp_path / "broken.csv"
    broken.write_text("customer_id,tenure_months\nC1,3\n")
    bad = churn_cli("model", "predict", "churn:1", "--input", str(broken), check=False)
    assert bad.exit_code == 2 and "missing input column(s)" in bad.stderr
    # every flavor the SDK loads, chosen from the command line
    for flavor in ("native", "onnx", "pipeline"):
        scored = churn_cli("model", "predict", "churn:1", "--input", str(new), "--flavor", flavor)
        assert f"churn:1 ({flavor})" in scored.stdout
    unknown = churn_cli(
        "model", "predict", "churn:1", "-i", str(new), "--flavor", "nope", check=False
    )
    assert unknown.exit_code == 2 and "unknown flavor 'nope'" in unknown.stderr

    # The package cache: churn:1, idle for over a week, goes when churn:2 is unpacked,
    # and comes back, verified, the next time it is used.
    (unpacked,) = packages.iterdir()
    old = time.time() - (IDLE_DAYS + 1) * 86_400
    os.utime(unpacked / ".complete", (old, old))
    churn_cli("model", "predict", "churn:2", "--input", str(new), "--output", str(out))
    assert not unpacked.exists() and len(list(packages.iterdir())) == 1
    churn_cli("model", "predict", "churn:1", "--input", str(new), "--output", str(out))
    assert unpacked.exists() and len(out.read_text().splitlines()) == 51
    # nothing unpacked there (onnxruntime itself keeps a session id in $TMPDIR/.ses)
    assert [p.name for p in (tmp_path / "tmp").iterdir() if p.name != ".ses"] == []

    run_id = shown["run_id"]
    reproduced = churn_cli("runs", "reproduce", run_id[:8])
    assert "identical metrics" in reproduced.stdout


def test_algorithms_lists_the_catalog(cli: Cli) -> None:
    listed = json.loads(cli("algorithms", "--json").stdout)
    names = {a["name"] for a in listed}
    assert {
        "linear",
        "knn",
        "decision_tree",
        "random_forest",
        "extra_trees",
        "hist_gradient_boosting",
        "xgboost",
        "lightgbm",
        "svm",
        "naive_bayes",
    } == names


def test_a_model_no_better_than_the_trivial_baseline_is_rejected_unless_allowed(
    cli: Cli, tmp_path: Path
) -> None:
    """The finding: five extreme outliers in a regression target, one tree kept."""
    frame = datasets.houses(1200, seed=4)
    frame.loc[frame.sample(5, random_state=1).index, "price"] = 1e15
    path = tmp_path / "outliers.parquet"
    frame.to_parquet(path, index=False)
    cli("data", "ingest", str(path), "--name", "outliers", "--target", "price")
    rejected = cli("train", "outliers", "--json", check=False)
    assert rejected.exit_code == 10
    assert "outliers:1 failed its success criteria:" in rejected.stderr
    assert "is not below the median predictor's" in rejected.stderr
    printed = json.loads(rejected.stdout)
    assert set(printed["baselines"]) == {"mean", "median"}
    assert printed["model"]["status"] == "rejected"
    allowed = cli("train", "outliers", "--allow-worse-than-baseline")
    assert "Registered outliers:2 (xgboost, regression) status pending" in allowed.stdout
    assert "median (trivial)" in allowed.stdout

    # approving the rejected version takes --force and a reason, kept in its history
    for args in ([], ["--force"], ["--reason", "looked fine"], ["--force", "--reason", " "]):
        refused = cli("model", "approve", "outliers:1", *args, check=False)
        assert refused.exit_code != 0 and "needs --force and a --reason" in refused.stderr
    cli("model", "approve", "outliers:1", "--force", "--reason", "outliers are real", "--by", "ana")
    history = json.loads(cli("model", "history", "outliers", "--json").stdout)
    approved = [e for e in history if e["kind"] == "approved"]
    assert len(approved) == 1 and approved[0]["actor"] == "ana"
    details = approved[0]["details"]
    assert details["forced"] is True and details["reason"] == "outliers are real"
    assert "median predictor" in details["overridden"]


def test_train_target_on_a_version_without_one_with_refit_and_progress(
    cli: Cli, tmp_path: Path
) -> None:
    """The README's --type/--role ingest names no target: `train --target` picks it."""
    path = tmp_path / "churn.csv"
    datasets.churn(800, seed=2).to_csv(path, index=False)
    cli("data", "ingest", str(path), "--name", "churn", "--role", "region=ignore")
    refused = cli("train", "churn", check=False)
    assert refused.exit_code != 0 and "pass --target COLUMN" in refused.stderr
    env = {**os.environ, "COLUMNS": "200", "FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"}
    args = [sys.executable, "-m", "modelyard", "-w", str(cli.workspace), "train", "churn"]
    args += ["--target", "churned", "-a", "linear", "--refit", "--json"]
    process = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert process.returncode == 0, process.stderr
    printed = json.loads(process.stdout)
    assert printed["model"]["lineage"]["target"] == "churned"
    assert printed["threshold"]["chosen_on"] == "validation"
    assert "/6" in process.stderr  # the progress bar counted the job's stages

    # the stored evaluation report, written as an HTML file and opened in a browser
    written = cli("model", "report", "churn:1", "--output", str(tmp_path / "r.html"))
    assert f"report → {tmp_path / 'r.html'}" in written.stdout
    html = (tmp_path / "r.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "prior (trivial)" in html
    assert "chosen by the strategy <code>f1</code> on the validation split" in html
    opened = tmp_path / "opened.txt"
    browser = {**env, "BROWSER": f"sh -c 'echo %s > {opened}'"}
    args = [sys.executable, "-m", "modelyard", "-w", str(cli.workspace), "model", "report"]
    args += ["churn:1", "--open"]
    process = subprocess.run(
        args, capture_output=True, text=True, env=browser, timeout=60, cwd=tmp_path
    )
    assert process.returncode == 0, process.stderr
    default = tmp_path / "churn-1-report.html"  # NAME-VERSION-report.html in the cwd
    assert opened.read_text().strip() == default.resolve().as_uri()
    assert default.read_text() == html
    bad = cli("model", "report", "churn:1", "-o", str(tmp_path / "no" / "r.html"), check=False)
    assert bad.exit_code != 0 and f"folder {tmp_path / 'no'} does not exist" in bad.stderr


def test_refit_all_learns_from_every_row_and_keeps_the_evaluated_metrics(
    churn_cli: Cli, tmp_path: Path
) -> None:
    """`--refit-all`: the same evaluation as without it, a model fitted on every split."""
    trained = {}
    for name, extra in (("evaluated", []), ("everyrow", ["--refit-all"])):
        args = ["train", "churn", "--name", name, "--refit", "--seed", "3", *extra, "--json"]
        trained[name] = json.loads(churn_cli(*args).stdout)
    evaluated, everyrow = trained["evaluated"], trained["everyrow"]
    assert evaluated["model"]["lineage"]["fitted_on"] == ["train", "validation"]
    assert everyrow["model"]["lineage"]["fitted_on"] == ["train", "validation", "test"]
    # the metrics describe the model evaluated on the test split, before the refit
    assert evaluated["metrics"]["roc_auc"] > 0.6
    assert everyrow["metrics"] == evaluated["metrics"]
    assert everyrow["threshold"] == evaluated["threshold"]

    new = tmp_path / "new.parquet"
    datasets.churn(200, seed=11).drop(columns=["churned"]).to_parquet(new, index=False)
    scores = {}
    for name in trained:
        out = tmp_path / f"{name}.csv"
        churn_cli("model", "predict", f"{name}:1", "--input", str(new), "--output", str(out))
        scores[name] = [line.split(",")[-1] for line in out.read_text().splitlines()[1:]]
    assert len(scores["everyrow"]) == 200
    assert scores["everyrow"] != scores["evaluated"]  # it learnt from the test rows too

    report = tmp_path / "everyrow.html"
    churn_cli("model", "report", "everyrow:1", "--output", str(report))
    assert "train + validation + test splits (refit after evaluation" in report.read_text()
