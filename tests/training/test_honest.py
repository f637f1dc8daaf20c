"""Metrics that do not flatter: the threshold off the test rows, trivial baselines,
threads bounded, the refit, and the target chosen at training."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import threadpoolctl
from sklearn import metrics as skm
from sklearn.datasets import make_classification

from modelyard import datasets
from modelyard.data import IngestOptions
from modelyard.registry import ApprovalStatus
from modelyard.training import STAGES, TrainingProgress, TrainingSpec, train
from modelyard.workspace import Workspace


def _binary_csv(path: Path, rows: int = 3000, seed: int = 5) -> Path:
    X, y = make_classification(
        rows, n_features=8, n_informative=4, flip_y=0.15, weights=[0.7], random_state=seed
    )
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)])
    frame["label"] = y
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("algorithm", ["linear", "xgboost"])
def test_the_threshold_is_f1_optimal_on_validation_and_test_metrics_use_it(
    tmp_path: Path, workspace: Workspace, algorithm: str
) -> None:
    csv = _binary_csv(tmp_path / "generated.csv")
    workspace.datasets.ingest(csv, "generated", IngestOptions(target="label"))
    result = train(workspace, TrainingSpec(dataset="generated", algorithm=algorithm))
    assert result.model is not None
    manifest = json.loads((workspace.models.package_path(result.model) / "model.json").read_text())
    stored = manifest["threshold"]["value"]
    model = workspace.models.load(result.model.ref, prefer="pipeline")

    def split(name: str) -> tuple[np.ndarray, np.ndarray]:
        rows = workspace.datasets.read("generated", split=name).to_pandas()
        scores = model.predict(rows.drop(columns=["label"])).probabilities
        assert scores is not None
        return rows["label"].to_numpy(), scores[:, 1]

    y_valid, p_valid = split("validation")
    precision, recall, thresholds = skm.precision_recall_curve(y_valid, p_valid)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-300)
    assert stored == thresholds[int(np.argmax(f1))]
    assert result.evaluation.threshold is not None
    assert result.evaluation.threshold.chosen_on == "validation"

    y_test, p_test = split("test")
    predicted = (p_test >= stored).astype(int)
    metrics = result.evaluation.metrics
    assert metrics["accuracy"] == pytest.approx(skm.accuracy_score(y_test, predicted), abs=1e-12)
    assert metrics["precision"] == pytest.approx(skm.precision_score(y_test, predicted), abs=1e-12)
    assert metrics["recall"] == pytest.approx(skm.recall_score(y_test, predicted), abs=1e-12)
    assert metrics["f1"] == pytest.approx(skm.f1_score(y_test, predicted), abs=1e-12)
    # the F1-optimal cut on the test rows themselves would report at least as much
    best_on_test = max(skm.f1_score(y_test, (p_test >= t).astype(int)) for t in np.unique(p_test))
    assert metrics["f1"] <= best_on_test


def test_without_a_validation_split_the_threshold_is_chosen_out_of_fold(
    tmp_path: Path, workspace: Workspace
) -> None:
    from modelyard.data import SplitSpec

    csv = _binary_csv(tmp_path / "generated.csv", rows=800)
    options = IngestOptions(target="label", split=SplitSpec(0.8, 0.0, 0.2))
    workspace.datasets.ingest(csv, "noval", options)
    result = train(workspace, TrainingSpec(dataset="noval", algorithm="linear"))
    assert result.evaluation.threshold is not None
    assert result.evaluation.threshold.chosen_on == "out-of-fold"


def _outliers(tmp_path: Path) -> Path:
    """The finding: five extreme outliers in a regression target."""
    frame = datasets.houses(1200, seed=4)
    frame.loc[frame.sample(5, random_state=1).index, "price"] = 1e15
    path = tmp_path / "outliers.parquet"
    frame.to_parquet(path, index=False)
    return path


def test_a_model_no_better_than_the_trivial_baseline_is_rejected_with_the_reason(
    tmp_path: Path, workspace: Workspace
) -> None:
    workspace.datasets.ingest(_outliers(tmp_path), "outliers", IngestOptions(target="price"))
    result = train(workspace, TrainingSpec(dataset="outliers", algorithm="xgboost"))
    baselines = result.evaluation.baselines
    assert set(baselines) == {"mean", "median"}
    assert result.evaluation.metrics["mae"] >= baselines["median"]["mae"]
    assert not result.passed and result.model is not None
    assert result.model.status is ApprovalStatus.REJECTED
    assert result.model.status_reason is not None
    assert "not below the median predictor's" in result.model.status_reason
    run = workspace.runs.get(result.run_id)
    assert run.metrics["baseline_median_mae"] == baselines["median"]["mae"]

    allowed = train(
        workspace,
        TrainingSpec(dataset="outliers", algorithm="xgboost", allow_worse_than_baseline=True),
    )
    assert allowed.passed and allowed.model is not None
    assert allowed.model.status is ApprovalStatus.PENDING
    assert "allowed" in allowed.messages[0][2]


def test_a_useful_model_beats_its_baseline(trained_workspace: Workspace) -> None:
    result = train(trained_workspace, TrainingSpec(dataset="houses", algorithm="linear"))
    assert result.passed
    assert result.messages[0][:2] == ("better than the trivial baseline", True)
    assert result.evaluation.metrics["rmse"] < result.evaluation.baselines["mean"]["rmse"]


def test_threads_follow_the_max_threads_setting(tmp_path: Path) -> None:
    csv = _binary_csv(tmp_path / "generated.csv", rows=400)
    pools: list[list[dict[str, object]]] = []

    def look(progress: TrainingProgress) -> None:
        if progress.message == "evaluating on the test split":
            pools.append(threadpoolctl.threadpool_info())

    for setting, expected in ((1, 1), (0, len(os.sched_getaffinity(0)))):
        ws = Workspace.init(tmp_path / f"ws{setting}", max_threads=setting)
        try:
            ws.datasets.ingest(csv, "generated", IngestOptions(target="label"))
            for algorithm in ("xgboost", "lightgbm"):
                pools.clear()
                spec = TrainingSpec(dataset="generated", algorithm=algorithm)
                result = train(ws, spec, progress=look)
                assert result.model is not None
                # scikit-learn's OpenMP and BLAS pools are bounded too, during the job
                assert len(pools) == 1 and pools[0]
                assert all(pool["num_threads"] == expected for pool in pools[0])
                pipeline = ws.models.load(result.model.ref, prefer="pipeline")._pipeline
                assert pipeline is not None
                assert pipeline[-1].get_params()["n_jobs"] == expected
        finally:
            ws.close()


def test_refit_learns_from_training_and_validation_rows(trained_workspace: Workspace) -> None:
    ws = trained_workspace
    plain = train(ws, TrainingSpec(dataset="churn", algorithm="xgboost", register=True))
    refit = train(ws, TrainingSpec(dataset="churn", algorithm="xgboost", refit=True))
    assert refit.model is not None and plain.model is not None
    rows = ws.runs.get(refit.run_id).metrics
    baseline = json.loads((ws.models.package_path(refit.model) / "baseline.json").read_text())
    assert baseline["rows"] == rows["rows_train"] + rows["rows_validation"]
    assert refit.spec.params["n_estimators"] == plain.spec.params["n_estimators"]
    assert refit.evaluation.threshold == plain.evaluation.threshold  # chosen before the refit
    assert refit.evaluation.metrics["log_loss"] != plain.evaluation.metrics["log_loss"]


def test_the_target_is_chosen_at_training_on_a_version_without_one(
    tmp_path: Path, workspace: Workspace
) -> None:
    path = tmp_path / "churn.csv"
    datasets.churn(600, seed=3).to_csv(path, index=False)
    version, _ = workspace.datasets.ingest(path, "churn")
    assert version.target is None
    seen: list[TrainingProgress] = []
    result = train(
        workspace,
        TrainingSpec(dataset="churn", target="churned", algorithm="linear"),
        progress=seen.append,
    )
    assert result.model is not None and result.model.lineage["target"] == "churned"
    manifest = json.loads((workspace.models.package_path(result.model) / "model.json").read_text())
    inputs = [c["name"] for c in manifest["signature"]["inputs"]]
    assert "churned" not in inputs and "tenure_months" in inputs
    assert [p.stage for p in seen] == sorted(p.stage for p in seen)
    assert seen[0].stage == 1 and seen[-1].stage == len(STAGES) == seen[-1].stages


def test_one_row_and_many_rows_predict_labels_of_the_same_type(
    trained_workspace: Workspace,
) -> None:
    """An integer-labelled classifier answered one row with object labels, many
    rows with int64: every flavor and path now gives the training labels' type."""
    ws = trained_workspace
    result = train(ws, TrainingSpec(dataset="churn", algorithm="xgboost"))
    assert result.model is not None
    rows = datasets.churn(20, seed=9).drop(columns=["churned"])
    for flavor in result.model.flavors:
        model = ws.models.load(result.model.ref, prefer=flavor)
        one, many = model.predict(rows.iloc[:1]), model.predict(rows)
        columns = model.predict_columns({c: list(rows[c][:1]) for c in rows.columns})
        assert one.predictions.dtype == many.predictions.dtype == np.int64, flavor
        assert columns.predictions.dtype == np.int64, flavor
        assert one.predictions[0] == many.predictions[0]


@pytest.mark.parametrize("algorithm", ["xgboost", "lightgbm"])
def test_boosting_reports_its_rounds(trained_workspace: Workspace, algorithm: str) -> None:
    """A long fit is most of a job: each round is reported, early stopping's and
    the final fit's, and the fitted model still pickles (no callback kept)."""
    seen: list[TrainingProgress] = []
    result = train(
        trained_workspace,
        TrainingSpec(dataset="churn", algorithm=algorithm),
        progress=seen.append,
    )
    messages = [p.message for p in seen]
    stopping = [m for m in messages if m.startswith(f"stopping {algorithm} early")]
    final = [m for m in messages if m.startswith(f"fitting {algorithm}: round")]
    rounds = result.spec.params["n_estimators"]
    assert stopping and stopping[0].endswith("round 1 of 200")
    assert final[-1] == f"fitting {algorithm}: round {rounds:,} of {rounds:,}"
    assert len(final) == rounds
    assert result.model is not None
    loaded = trained_workspace.models.load(result.model.ref, prefer="pipeline")
    assert (
        loaded.predict(datasets.churn(5, seed=1).drop(columns=["churned"])).probabilities
        is not None
    )
