"""Drift and data quality per window, against the model's training statistics."""

from __future__ import annotations

from datetime import timedelta

from modelyard import datasets
from modelyard.workspace import Workspace
from tests.monitoring.conftest import FIRST_HOUR, capture


def _drifted_features(window: dict) -> set[str]:  # type: ignore[type-arg]
    return {
        v["feature"]
        for v in window["violations"]
        if v["check"] == "baseline_drift_check" and v["feature"] != "__prediction__"
    }


def test_no_drift_is_flagged_in_20_windows_from_the_training_distribution(
    ws: Workspace, endpoint: str
) -> None:
    for k in range(20):
        capture(ws, endpoint, datasets.churn(600, seed=100 + k), FIRST_HOUR + timedelta(hours=k))
    ws.monitors.create(endpoint)
    run = ws.monitors.run(endpoint)
    assert len(run.windows) == 20
    history = ws.monitors.history(endpoint)
    assert [h["rows"] for h in history] == [600] * 20
    flagged = [(h["window"], v["key"]) for h in history for v in h["violations"]]
    assert flagged == []
    # every feature was measured, with p-values corrected over the window's features
    first = history[0]["drift"]
    assert {"monthly_charges", "contract", "signup_date"} <= {d["feature"] for d in first}
    assert all(d["pvalue_adjusted"] >= d["chi2_pvalue"] for d in first)


def test_three_planted_drifts_are_exactly_the_ones_flagged(ws: Workspace, endpoint: str) -> None:
    capture(ws, endpoint, datasets.churn(800, seed=7), FIRST_HOUR)
    frame = datasets.churn(800, seed=8)
    frame["monthly_charges"] = frame["monthly_charges"] * 1.6
    frame["support_calls"] = frame["support_calls"] + 3
    frame["contract"] = "month-to-month"
    capture(ws, endpoint, frame, FIRST_HOUR + timedelta(hours=1))
    ws.monitors.create(endpoint)
    ws.monitors.run(endpoint)
    before, after = ws.monitors.history(endpoint)
    assert _drifted_features(before) == set()
    assert _drifted_features(after) == {"monthly_charges", "support_calls", "contract"}
    by_feature = {d["feature"]: d for d in after["drift"]}
    assert by_feature["monthly_charges"]["psi"] > 0.2
    assert by_feature["tenure_months"]["psi"] < 0.1


def test_a_window_checked_once_is_not_checked_again(ws: Workspace, endpoint: str) -> None:
    capture(ws, endpoint, datasets.churn(200, seed=1), FIRST_HOUR)
    ws.monitors.create(endpoint)
    first = ws.monitors.run(endpoint)
    capture(ws, endpoint, datasets.churn(200, seed=2), FIRST_HOUR + timedelta(hours=1))
    second = ws.monitors.run(endpoint)
    third = ws.monitors.run(endpoint)
    assert first.windows == [f"{FIRST_HOUR:%Y-%m-%dT%H}"]
    assert second.windows == [f"{FIRST_HOUR + timedelta(hours=1):%Y-%m-%dT%H}"]
    assert third.windows == [] and "already checked" in third.message
    job = ws.jobs.get(second.job_id or "")
    assert job.kind == "monitor" and job.status.value == "succeeded"
    assert job.partitions_done == 1


def test_no_traffic_yet_is_said_and_an_unreadable_file_is_named_and_skipped(
    ws: Workspace, endpoint: str
) -> None:
    ws.monitors.create(endpoint)
    assert "no captured traffic" in ws.monitors.run(endpoint).message
    capture(ws, endpoint, datasets.churn(100, seed=3), FIRST_HOUR)
    broken = (
        ws.settings.state_dir / "capture" / f"endpoint={endpoint}"
        / f"hour={FIRST_HOUR:%Y-%m-%dT%H}" / "part-broken.parquet"
    )  # fmt: skip
    broken.write_bytes(b"not parquet")
    ws.monitors.run(endpoint)
    (window,) = ws.monitors.history(endpoint)
    assert window["rows"] == 100
    assert len(window["unreadable_files"]) == 1 and "part-broken" in window["unreadable_files"][0]


def test_new_categories_and_missing_values_are_data_quality_violations(
    ws: Workspace, endpoint: str
) -> None:
    frame = datasets.churn(400, seed=4)
    frame["internet_service"] = "satellite"
    frame.loc[: len(frame) // 2, "monthly_charges"] = None
    frame.loc[: len(frame) // 4, "tenure_months"] = 900  # beyond training's range
    capture(ws, endpoint, frame, FIRST_HOUR)
    ws.monitors.create(endpoint)
    ws.monitors.run(endpoint)
    (window,) = ws.monitors.history(endpoint)
    checks = {(v["check"], v["feature"]) for v in window["violations"]}
    assert ("categorical_values_check", "internet_service") in checks
    assert ("completeness_check", "monthly_charges") in checks
    assert ("out_of_range_check", "tenure_months") in checks


def test_a_broken_correlation_is_flagged_by_the_multivariate_check_only(
    ws: Workspace, endpoint: str
) -> None:
    capture(ws, endpoint, datasets.churn(1000, seed=70), FIRST_HOUR)
    frame = datasets.churn(1000, seed=71)
    # each column keeps its values (its marginal); total_charges no longer follows
    # tenure x monthly charges
    frame["total_charges"] = frame["total_charges"].sample(frac=1.0, random_state=0).to_numpy()
    capture(ws, endpoint, frame, FIRST_HOUR + timedelta(hours=1))
    monitor = ws.monitors.create(endpoint)
    assert monitor.spec["multivariate"] is not None
    ws.monitors.run(endpoint)
    before, after = ws.monitors.history(endpoint)
    assert before["violations"] == [] and not before["multivariate"]["drifted"]
    assert [v["key"] for v in after["violations"]] == ["multivariate_drift"]
    assert (
        after["multivariate"]["reconstruction_error"]
        > before["multivariate"]["reconstruction_error"]
    )


def test_a_boolean_feature_drifts_by_its_share_of_true(ws: Workspace, endpoint: str) -> None:
    # a 0/1 column's baseline deciles are one bin; its share of true is what moves
    frame = datasets.churn(800, seed=9)
    frame["senior_citizen"] = True
    capture(ws, endpoint, frame, FIRST_HOUR)
    ws.monitors.create(endpoint)
    ws.monitors.run(endpoint)
    (window,) = ws.monitors.history(endpoint)
    assert _drifted_features(window) == {"senior_citizen"}
    measured = {d["feature"]: d for d in window["drift"]}["senior_citizen"]
    assert measured["kind"] == "boolean" and measured["bins"] == ["false", "true"]
    assert measured["window_shares"] == [0.0, 1.0] and measured["psi"] > 0.2
