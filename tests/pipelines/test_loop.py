"""The closed loop, end to end: planted drift → the worker's monitor finds it → the
retraining pipeline is triggered → the candidate beats the champion on the same
newer labelled rows → a guarded canary under load → promoted. A planted worse
candidate is not deployed, and the run records why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelyard import datasets
from modelyard.data import IngestOptions
from modelyard.pipelines import Pipeline, steps
from modelyard.serving import VariantConfig
from modelyard.training import TrainingSpec, train
from modelyard.workspace import Workspace
from tests.conftest import Cli
from tests.monitoring.conftest import FIRST_HOUR, capture
from tests.pipelines._load import under_load
from tests.serving.conftest import start_serve

WEAK = {"n_estimators": 2, "max_depth": 1}


def _drifted(rows: int, seed: int) -> object:
    frame = datasets.churn(rows, seed=seed)
    frame["monthly_charges"] = frame["monthly_charges"] * 1.6
    return frame


def _retraining_pipeline(workspace: Workspace) -> None:
    p = Pipeline("retrain", params={"trees": 80, "depth": 3, "gateway": ""})
    model = p.add(
        steps.Train(
            "churn",  # the newest version: the drifted, labelled rows
            algorithm="xgboost",
            params={"n_estimators": p.param("trees"), "max_depth": p.param("depth")},
            threshold="default",
            allow_worse_than_baseline=True,
            name="train",
        )
    )
    verdict = p.add(
        steps.Compare(model, data="churn", endpoint="churn-api", margin=0.01, name="compare")
    )
    gate = p.add(steps.Condition(verdict.output().eq(True), name="better"))
    approved = p.add(steps.Register(model, status="approved", when=gate, name="approve"))
    p.add(
        steps.Deploy(
            approved,
            endpoint="churn-api",
            strategy="canary:50%:3s",
            gateway=p.param("gateway"),
            min_requests=10,
            when=gate,
            name="canary",
        )
    )
    p.save(workspace)


@pytest.mark.slow
def test_drift_retrain_canary_promote_and_a_worse_candidate_kept_out(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    first = tmp_path / "churn.csv"
    datasets.churn(2000, seed=1).to_csv(first, index=False)
    workspace.datasets.ingest(first, "churn", IngestOptions(target="churned"))
    champion = train(
        workspace,
        TrainingSpec(dataset="churn", algorithm="xgboost", params=WEAK, threshold="default",
                     allow_worse_than_baseline=True),
    )  # fmt: skip
    assert champion.model is not None and champion.model.ref == "churn:1"
    workspace.endpoints.create("churn-api", [VariantConfig("a", "churn:1")])
    workspace.monitors.create("churn-api")
    _retraining_pipeline(workspace)
    gateway = start_serve(cli.workspace)
    try:
        cli("pipeline", "trigger", "retrain", "--on-monitor", "churn-api",
            "-p", f"gateway={gateway.url}")  # fmt: skip
        # the world drifts: traffic (captured) and the newest labelled rows
        capture(workspace, "churn-api", _drifted(400, 7), FIRST_HOUR)
        newer = tmp_path / "churn-newer.csv"
        _drifted(2000, 2).to_csv(newer, index=False)  # type: ignore[attr-defined]
        workspace.datasets.ingest(newer, "churn", IngestOptions(target="churned"))

        rows = [
            frame.to_json(orient="records", date_format="iso").encode()
            for frame in (
                datasets.churn(100, seed=5).drop(columns=["churned"]).iloc[[i]] for i in range(100)
            )
        ]
        worker, log = under_load(
            gateway.url, "churn-api", rows, lambda: cli("worker", "--once", timeout=600)
        )
    finally:
        gateway.stop()
    assert "monitor churn-api" in worker.stderr, worker.stderr
    (run,) = json.loads(cli("pipeline", "runs", "retrain", "--json").stdout)
    assert run["trigger"].startswith("monitor churn-api: violations in "), run["trigger"]
    assert run["status"] == "succeeded", run["error"]
    by_name = {s["name"]: s for s in run["steps"]}
    verdict = by_name["compare"]["outputs"]
    assert verdict["better"] is True and verdict["champion_model"] == "churn:1", verdict
    assert verdict["data"] == "churn:2" and verdict["candidate"] > verdict["champion"] + 0.01
    candidate = by_name["train"]["outputs"]["model"]["ref"]
    assert by_name["canary"]["outputs"]["promoted"] is True
    assert all(status == 200 for _, _, status, _ in log), "a request failed during the canary"
    served = workspace.endpoints.get("churn-api").config.production
    assert [v.model for v in served] == [candidate]
    history = workspace.endpoints.history("churn-api")
    assert [h.action for h in history] == ["create", "update", "update", "update"]
    assert (history[-1].actor or "").startswith("deploy guard ")
    assert (history[-1].reason or "").startswith("promoted: no alarm")

    # a planted worse candidate: trained, compared, not deployed, the reason kept
    worse = json.loads(
        cli("pipeline", "run", "retrain", "-p", "trees=1", "-p", "depth=1", "--json").stdout
    )
    steps_of = {s["name"]: s for s in worse["steps"]}
    assert steps_of["compare"]["outputs"]["better"] is False
    assert steps_of["compare"]["outputs"]["champion_model"] == candidate
    assert "not better by the margin 0.01" in steps_of["compare"]["outputs"]["reason"]
    assert [steps_of[n]["status"] for n in ("approve", "canary")] == ["skipped", "skipped"]
    assert steps_of["approve"]["reason"] == "its condition is false"
    assert [v.model for v in workspace.endpoints.get("churn-api").config.production] == [candidate]


@pytest.mark.slow
def test_loop_create_retrains_with_the_champions_spec_and_loop_history_tells_why(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    spec = {"algorithm": "xgboost", "params": {"n_estimators": 80, "max_depth": 3},
            "threshold": "default", "allow_worse_than_baseline": True}  # fmt: skip

    def ingest(rows: int, seed: int, drift: bool) -> None:
        frame = _drifted(rows, seed) if drift else datasets.churn(rows, seed=seed)
        path = tmp_path / f"churn-{seed}.csv"
        frame.to_csv(path, index=False)  # type: ignore[attr-defined]
        workspace.datasets.ingest(path, "churn", IngestOptions(target="churned"))

    ingest(200, 1, drift=False)  # the champion saw little data
    champion = train(workspace, TrainingSpec(dataset="churn", **spec))  # type: ignore[arg-type]
    assert champion.model is not None
    workspace.endpoints.create("churn-api", [VariantConfig("a", champion.model.ref)])
    workspace.monitors.create("churn-api")
    missing = cli("loop", "create", "nowhere", "--gateway", "http://x", check=False)
    assert missing.exit_code == 3 and "endpoint nowhere not found" in missing.stderr
    gateway = start_serve(cli.workspace)
    try:
        made = cli("loop", "create", "churn-api", "--gateway", gateway.url, "--on", "drift",
                   "--promote", "canary:50%:3s", "--margin", "0.01")  # fmt: skip
        assert "pipeline loop-churn-api runs on drift" in made.stdout
        capture(workspace, "churn-api", _drifted(400, 7), FIRST_HOUR)
        ingest(3000, 2, drift=True)  # newer labelled rows, many of them
        rows = [
            frame.to_json(orient="records", date_format="iso").encode()
            for frame in (
                datasets.churn(100, seed=5).drop(columns=["churned"]).iloc[[i]] for i in range(100)
            )
        ]
        under_load(gateway.url, "churn-api", rows, lambda: cli("worker", "--once", timeout=600))
    finally:
        gateway.stop()
    (promoted,) = json.loads(cli("loop", "history", "churn-api", "--json").stdout)
    assert promoted["decision"] == "promoted", promoted
    assert promoted["trigger"].startswith("monitor churn-api: violations in ")
    assert promoted["champion"] == champion.model.ref and "better (+" in promoted["reason"]
    assert promoted["scores"]["candidate"] > promoted["scores"]["champion"] + 0.01
    served = workspace.endpoints.get("churn-api").config.production
    assert [v.model for v in served] == [promoted["candidate"]]

    ingest(400, 4, drift=True)  # a small newer version: its candidate is no better
    cli("pipeline", "run", "loop-churn-api")
    kept_out, _ = json.loads(cli("loop", "history", "churn-api", "--json").stdout)
    assert kept_out["decision"] == "not deployed", kept_out
    assert kept_out["champion"] == promoted["candidate"]
    assert "not better by the margin 0.01" in kept_out["reason"]
    table = cli("loop", "history", "churn-api").stdout
    assert "not deployed" in table and "promoted" in table
