"""The training job through the SDK: evaluate, package with ONNX, register with lineage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from modelyard import datasets
from modelyard.errors import InvalidInputError, NotFoundError
from modelyard.registry import ApprovalStatus
from modelyard.training import TrainingSpec, reproduce, train
from modelyard.workspace import Workspace


@pytest.mark.slow
def test_binary_model_is_evaluated_packaged_and_registered(trained_workspace: Workspace) -> None:
    ws = trained_workspace
    result = train(
        ws,
        TrainingSpec(dataset="churn", algorithm="xgboost", requirements=("roc_auc>=0.7",)),
    )
    model = result.model
    assert model is not None and result.passed
    assert model.status is ApprovalStatus.PENDING
    assert model.lineage["dataset"] == "churn:1" and model.lineage["target"] == "churned"
    assert model.lineage["split"]["seed"] == 42 and model.run_id == result.run_id
    assert model.flavors == ["onnx", "native", "pipeline"]
    assert 0.7 <= model.metrics["roc_auc"] <= 1.0
    assert {"accuracy", "precision", "recall", "f1_macro", "pr_auc", "log_loss"} <= set(
        model.metrics
    )
    run = ws.runs.get(result.run_id)
    assert {"evaluation/report.html", "evaluation/evaluation.json", "training_spec.json"} <= {
        a.name for a in run.artifacts
    }
    assert int(run.params["n_estimators"]) >= 1  # resolved by early stopping
    package = ws.models.package_path(model)
    manifest = json.loads((package / "model.json").read_text())
    assert manifest["onnx"]["available"] and manifest["onnx"]["max_difference"] <= 1e-4
    inputs = {c["name"]: c for c in manifest["signature"]["inputs"]}
    assert "customer_id" not in inputs and "churned" not in inputs
    assert set(inputs["contract"]["categories"]) == {"month-to-month", "one-year", "two-year"}
    assert inputs["total_charges"]["nullable"] is True
    assert manifest["threshold"]["strategy"] == "f1"
    baseline = json.loads((package / "baseline.json").read_text())
    assert baseline["columns"]["monthly_charges"]["kind"] == "numeric"
    assert abs(sum(baseline["columns"]["monthly_charges"]["bin_shares"]) - 1) < 1e-9
    assert list(baseline["columns"]) == list(inputs)  # every input, in signature order
    assert baseline["rows"] == run.metrics["rows_train"]
    assert baseline["scores"]["count"] == run.metrics["rows_test"]  # the test split's scores
    assert 0.0 <= baseline["scores"]["min"] <= baseline["scores"]["max"] <= 1.0
    new_rows = datasets.churn(300, seed=5).drop(columns=["churned"])
    onnx_model = ws.models.load(model.ref)
    pipeline_model = ws.models.load(model.ref, prefer="pipeline")
    native_model = ws.models.load(model.ref, prefer="native")
    assert (onnx_model.flavor, pipeline_model.flavor) == ("onnx", "pipeline")
    assert native_model.flavor == "native" and native_model._pipeline is None  # no unpickling
    assert manifest["native"]["library"] == "xgboost"
    assert (package / manifest["native"]["file"]).is_file()
    a, b = onnx_model.predict(new_rows), pipeline_model.predict(new_rows)
    c = native_model.predict(new_rows)
    assert a.probabilities is not None and b.probabilities is not None
    assert c.probabilities is not None
    assert np.max(np.abs(a.probabilities - b.probabilities)) <= 1e-4
    assert np.max(np.abs(c.probabilities - b.probabilities)) <= 1e-6
    assert set(a.predictions) <= {0, 1}
    assert list(c.predictions) == list(b.predictions)


@pytest.mark.slow
def test_regression_and_failed_criteria_register_rejected(trained_workspace: Workspace) -> None:
    result = train(
        trained_workspace,
        TrainingSpec(dataset="houses", algorithm="lightgbm", requirements=("r2>=0.999",)),
    )
    assert not result.passed and result.model is not None
    assert result.model.status is ApprovalStatus.REJECTED
    assert result.model.status_reason is not None and "r2" in result.model.status_reason
    assert result.model.task == "regression" and "onnx" in result.model.flavors
    assert "native" in result.model.flavors  # LightGBM's own model text, no pickle
    native = trained_workspace.models.load(result.model.ref, prefer="native")
    pipeline = trained_workspace.models.load(result.model.ref, prefer="pipeline")
    rows = datasets.houses(200, seed=3).drop(columns=["price"])
    np.testing.assert_allclose(
        native.predict(rows).predictions, pipeline.predict(rows).predictions, rtol=1e-6
    )
    assert {"rmse", "mae", "mape", "r2"} <= set(result.model.metrics)


@pytest.mark.slow
def test_reproduce_gives_identical_metrics(trained_workspace: Workspace) -> None:
    first = train(trained_workspace, TrainingSpec(dataset="churn", algorithm="lightgbm"))
    again = reproduce(trained_workspace, first.run_id)
    assert again.identical, again.metrics
    assert len(again.metrics) >= 10


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        (TrainingSpec(dataset="churn", target="nope"), InvalidInputError, "'nope' is not in"),
        (
            TrainingSpec(dataset="churn", algorithm="deep_forest"),
            InvalidInputError,
            "unknown algorithm",
        ),
        (
            TrainingSpec(dataset="churn", requirements=("accuracyy>=0.5",)),
            InvalidInputError,
            "accuracyy",
        ),
        (
            TrainingSpec(dataset="churn", requirements=("r2>=0.5",)),
            InvalidInputError,
            "r2",
        ),
        (
            TrainingSpec(dataset="churn", target="contract", task="regression"),
            InvalidInputError,
            "regression needs a numeric target",
        ),
        (
            TrainingSpec(dataset="houses", algorithm="naive_bayes"),
            InvalidInputError,
            "does not support regression",
        ),
        (TrainingSpec(dataset="ghost"), NotFoundError, "dataset ghost not found"),
        (TrainingSpec(dataset="churn", params={"depth": 3}), InvalidInputError, "depth"),
    ],
)
def test_bad_jobs_fail_before_anything_is_registered(
    trained_workspace: Workspace, spec: TrainingSpec, error: type[Exception], message: str
) -> None:
    before = len(trained_workspace.models.list_versions())
    with pytest.raises(error, match=message):
        train(trained_workspace, spec)
    assert len(trained_workspace.models.list_versions()) == before


def test_single_class_and_text_targets_are_refused(tmp_path: Path, workspace: Workspace) -> None:
    frame = datasets.churn(200, seed=1)
    frame["constant"] = 1
    frame["notes"] = [f"customer said something long about the plan number {i}" for i in range(200)]
    path = tmp_path / "odd.csv"
    frame.to_csv(path, index=False)
    workspace.datasets.ingest(path, "odd")
    with pytest.raises(InvalidInputError, match="single value"):
        train(workspace, TrainingSpec(dataset="odd", target="constant"))
    with pytest.raises(InvalidInputError, match="'notes' is text"):
        train(workspace, TrainingSpec(dataset="odd", target="notes", task="regression"))
    assert workspace.models.list_versions() == []


def test_rows_without_a_target_are_left_out_of_every_split(
    tmp_path: Path, workspace: Workspace
) -> None:
    frame = datasets.churn(600, seed=4)
    frame["churned"] = frame["churned"].astype("object")
    frame.loc[frame.index % 5 == 0, "churned"] = None  # one row in five unlabelled
    path = tmp_path / "partly_labelled.parquet"
    frame.to_parquet(path, index=False)
    from modelyard.data import IngestOptions

    workspace.datasets.ingest(path, "partly", IngestOptions(target="churned"))
    result = train(workspace, TrainingSpec(dataset="partly", algorithm="linear"))
    metrics = workspace.runs.get(result.run_id).metrics
    rows = {split: metrics[f"rows_{split}"] for split in ("train", "validation", "test")}
    assert sum(rows.values()) == 480  # the 120 unlabelled rows are in no split
    assert all(count > 0 for count in rows.values())
    assert result.model is not None
    evaluated = result.evaluation.confusion_matrix
    assert evaluated is not None and sum(map(sum, evaluated)) == rows["test"]


def test_a_class_with_one_row_or_none_in_training_is_refused_by_name(
    tmp_path: Path, workspace: Workspace
) -> None:
    """Such a class used to vanish silently from the model's classes."""
    from modelyard.data import IngestOptions, SplitSpec

    frame = datasets.churn(500, seed=6)
    newest = frame["signup_date"].idxmax()
    frame.loc[newest, "contract"] = "lifetime"  # a class only one row has
    path = tmp_path / "contracts.parquet"
    frame.to_parquet(path, index=False)
    split = SplitSpec(0.7, 0.15, 0.15, stratify=False, time_column="signup_date")
    workspace.datasets.ingest(path, "contracts", IngestOptions(target="contract", split=split))
    spec = TrainingSpec(dataset="contracts", algorithm="linear", task="multiclass")
    with pytest.raises(InvalidInputError, match=r"'lifetime' of target column 'contract'.*single"):
        train(workspace, spec)
    newest_two = frame["signup_date"].nlargest(2).index
    frame.loc[newest_two, "contract"] = "lifetime"  # two rows, both after the training rows
    frame.to_parquet(path, index=False)
    workspace.datasets.ingest(path, "contracts", IngestOptions(target="contract", split=split))
    with pytest.raises(InvalidInputError, match=r"'lifetime' .* no row in the training split"):
        train(workspace, spec)
    assert workspace.models.list_versions() == []


def test_an_infinite_regression_target_is_refused_before_fitting(
    tmp_path: Path, workspace: Workspace
) -> None:
    frame = datasets.houses(300, seed=2)
    frame.loc[[5, 17], "price"] = np.inf
    path = tmp_path / "houses.parquet"
    frame.to_parquet(path, index=False)
    from modelyard.data import IngestOptions

    workspace.datasets.ingest(path, "houses", IngestOptions(target="price"))
    with pytest.raises(InvalidInputError, match="target column 'price' of houses:1 holds"):
        train(workspace, TrainingSpec(dataset="houses", algorithm="xgboost"))
    assert workspace.models.list_versions() == []


def test_a_model_without_onnx_says_why_and_serves_through_its_pipeline(
    trained_workspace: Workspace,
) -> None:
    ws = trained_workspace
    spec = TrainingSpec(
        dataset="houses", algorithm="hist_gradient_boosting", params={"loss": "poisson"}
    )
    result = train(ws, spec)
    model = result.model
    assert model is not None and model.flavors == ["pipeline"]
    manifest = json.loads((ws.models.package_path(model) / "model.json").read_text())
    assert manifest["onnx"]["available"] is False
    assert manifest["onnx"]["reason"].startswith(("conversion failed", "ONNX outputs differ"))
    loaded = ws.models.load(model.ref)
    assert loaded.flavor == "pipeline"
    rows = datasets.houses(20, seed=9).drop(columns=["price"])
    prediction = loaded.predict(rows)
    assert prediction.flavor == "pipeline"
    assert prediction.predictions.shape == (20,) and np.all(prediction.predictions > 0)


def test_hist_gradient_boosting_is_packaged_with_an_onnx_flavor(
    trained_workspace: Workspace,
) -> None:
    ws = trained_workspace
    result = train(ws, TrainingSpec(dataset="churn", algorithm="hist_gradient_boosting"))
    model = result.model
    assert model is not None and model.flavors == ["onnx", "pipeline"]
    assert result.onnx.converter is not None and result.onnx.max_difference is not None
    rows = datasets.churn(50, seed=8).drop(columns=["churned"])
    onnx_scores = ws.models.load(model.ref).predict(rows)
    pipeline_scores = ws.models.load(model.ref, prefer="pipeline").predict(rows)
    assert (onnx_scores.flavor, pipeline_scores.flavor) == ("onnx", "pipeline")
    assert onnx_scores.probabilities is not None and pipeline_scores.probabilities is not None
    np.testing.assert_allclose(onnx_scores.probabilities, pipeline_scores.probabilities, atol=1e-4)
