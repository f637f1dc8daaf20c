"""Runs: params, metrics, status, artifacts, environment, comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelyard
from modelyard.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.tracking import RunStatus
from modelyard.workspace import Workspace


def test_start_run_records_everything(workspace: Workspace, tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("all good")
    with modelyard.start_run(experiment="churn", name="first", workspace=workspace) as run:
        run.log_params({"algorithm": "xgboost", "depth": 4})
        run.log_metric("auc", 0.81)
        run.log_metrics({"auc": 0.85, "loss": 0.3})
        run.set_tag("team", "growth")
        run.log_artifact(report)
        run.log_dict({"a": 1}, "config/params.json")
        run.log_input("dataset", "churn:1", split="train")
    info = workspace.runs.get(run.id)
    assert info.status is RunStatus.FINISHED and info.end_time is not None
    assert info.experiment == "churn" and info.name == "first"
    assert info.params == {"algorithm": "xgboost", "depth": "4"}
    assert info.metrics == {"auc": 0.85, "loss": 0.3}
    assert [p.step for p in workspace.runs.metric_history(run.id, "auc")] == [0, 1]
    assert info.tags == {"team": "growth"}
    assert [a.name for a in info.artifacts] == ["config/params.json", "report.txt"]
    assert workspace.runs.artifact_bytes(run.id, "report.txt") == b"all good"
    assert info.inputs == [{"kind": "dataset", "ref": "churn:1", "split": "train"}]
    assert info.environment["python"].count(".") == 2
    assert "pandas" in info.environment["packages"]
    assert info.duration_seconds is not None and info.duration_seconds >= 0


def test_a_run_that_raises_is_marked_failed(workspace: Workspace) -> None:
    with pytest.raises(RuntimeError, match="diverged"), workspace.start_run("e") as run:
        run.log_metric("loss", 1.0)
        raise RuntimeError("loss diverged")
    info = workspace.runs.get(run.id)
    assert info.status is RunStatus.FAILED
    assert info.error == "RuntimeError: loss diverged"
    assert info.metrics == {"loss": 1.0}


def test_batched_metrics_are_written_on_exit(workspace: Workspace) -> None:
    with workspace.start_run("e") as run, run.batch():
        for step in range(2500):
            run.log_metric("x", float(step))
    assert workspace.runs.get(run.id).metric_counts == {"x": 2500}


def test_ended_run_refuses_writes(workspace: Workspace) -> None:
    with workspace.start_run("e") as run:
        pass
    with pytest.raises(ConflictError, match="has ended"):
        run.log_metric("late", 1.0)


def test_params_keep_their_first_value(workspace: Workspace) -> None:
    with workspace.start_run("e") as run:
        run.log_param("lr", 0.1)
        run.log_param("lr", 0.1)
        with pytest.raises(ConflictError, match="lr"):
            run.log_param("lr", 0.2)


@pytest.mark.parametrize(("key", "value"), [("", 1.0), ("x" * 300, 1.0), ("ok", "high")])
def test_bad_metrics_are_refused(workspace: Workspace, key: str, value: object) -> None:
    with workspace.start_run("e") as run, pytest.raises(InvalidInputError):
        run.log_metric(key, value)  # type: ignore[arg-type]


def test_artifact_names_cannot_escape(workspace: Workspace) -> None:
    with workspace.start_run("e") as run, pytest.raises(InvalidInputError, match="artifact name"):
        run.log_bytes(b"x", "../../outside")


def test_run_lookup_by_prefix_and_compare(workspace: Workspace) -> None:
    with workspace.start_run("e") as a:
        a.log_params({"lr": 0.1, "depth": 3})
        a.log_metric("auc", 0.8)
    with workspace.start_run("e") as b:
        b.log_params({"lr": 0.2, "trees": 100})
        b.log_metric("auc", 0.9)
    assert workspace.runs.get(a.id[:6]).id == a.id
    comparison = workspace.runs.compare(a.id, b.id)
    assert ("lr", "0.1", "0.2") in comparison.params
    assert ("depth", "3", None) in comparison.params
    assert comparison.metrics == [("auc", 0.8, 0.9)]
    with pytest.raises(NotFoundError):
        workspace.runs.get("ffffffff")
    with pytest.raises(NotFoundError):
        workspace.runs.get("../x")


def test_list_filters_by_experiment_and_status(workspace: Workspace) -> None:
    with workspace.start_run("one"):
        pass
    with pytest.raises(ValueError), workspace.start_run("two"):
        raise ValueError("x")
    assert [r.experiment for r in workspace.runs.list_runs("one")] == ["one"]
    assert [r.experiment for r in workspace.runs.list_runs(status=RunStatus.FAILED)] == ["two"]


def test_start_run_finds_the_workspace_of_the_current_directory(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested = workspace.settings.workspace / "notebooks"
    nested.mkdir()
    monkeypatch.chdir(nested)
    with modelyard.start_run("cwd") as run:
        run.log_metric("m", 1.0)
    assert workspace.runs.get(run.id).metrics == {"m": 1.0}


def test_log_dict_writes_standard_json_of_awkward_values(workspace: Workspace) -> None:
    import json
    from datetime import date

    import numpy as np

    document = {
        "curve": np.array([0.5, 0.25]),
        "count": np.int64(3),
        1: "an integer key",
        "missing": float("nan"),
        "when": date(2026, 11, 23),
    }
    with workspace.start_run("e") as run:
        run.log_dict(document, "awkward.json")
        run.log_dict({"huge": 2**70}, "huge.json")  # past 64 bits: json writes it
    awkward = json.loads(workspace.runs.artifact_bytes(run.id, "awkward.json"))
    assert awkward == {
        "curve": [0.5, 0.25],
        "count": 3,
        "1": "an integer key",
        "missing": None,
        "when": "2026-11-23",
    }
    assert json.loads(workspace.runs.artifact_bytes(run.id, "huge.json")) == {"huge": 2**70}
