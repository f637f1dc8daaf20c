"""SageMaker Model Monitor's files: a hand-written baseline is read, violations written."""

from __future__ import annotations

import json
from pathlib import Path

from modelyard import datasets
from modelyard.workspace import Workspace
from tests.monitoring.conftest import FIRST_HOUR, capture

# Written to the shape of AWS's documentation of statistics.json and constraints.json.
STATISTICS = {
    "version": 0,
    "dataset": {"item_count": 1000},
    "features": [
        {
            "name": "monthly_charges",
            "inferred_type": "Fractional",
            "numerical_statistics": {
                "common": {"num_present": 1000, "num_missing": 0},
                "mean": 65.0,
                "sum": 65000.0,
                "std_dev": 25.0,
                "min": 18.0,
                "max": 120.0,
                "distribution": {
                    "kll": {
                        "buckets": [
                            {"lower_bound": 18.0, "upper_bound": 45.0, "count": 250},
                            {"lower_bound": 45.0, "upper_bound": 70.0, "count": 250},
                            {"lower_bound": 70.0, "upper_bound": 90.0, "count": 250},
                            {"lower_bound": 90.0, "upper_bound": 120.0, "count": 250},
                        ],
                        "sketch": {"parameters": {"c": 0.64, "k": 2048.0}, "data": []},
                    }
                },
            },
        },
        {
            "name": "contract",
            "inferred_type": "String",
            "string_statistics": {
                "common": {"num_present": 1000, "num_missing": 0},
                "distinct_count": 3.0,
                "distribution": {
                    "categorical": {
                        "buckets": [
                            {"value": "month-to-month", "count": 550},
                            {"value": "one-year", "count": 210},
                            {"value": "two-year", "count": 240},
                        ]
                    }
                },
            },
        },
    ],
}
CONSTRAINTS = {
    "version": 0,
    "features": [
        {"name": "monthly_charges", "inferred_type": "Fractional", "completeness": 1.0},
        {
            "name": "contract",
            "inferred_type": "String",
            "completeness": 1.0,
            "string_constraints": {"domains": ["month-to-month", "one-year", "two-year"]},
        },
    ],
    "monitoring_config": {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 0.1,
        "domain_content_threshold": 0.1,
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": 0.1,
            "comparison_method": "Robust",
        },
    },
}


def test_a_sagemaker_baseline_is_monitored_and_violations_written_in_its_shape(
    ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    (baseline / "statistics.json").write_text(json.dumps(STATISTICS))
    (baseline / "constraints.json").write_text(json.dumps(CONSTRAINTS))
    frame = datasets.churn(600, seed=90)
    frame["monthly_charges"] = frame["monthly_charges"] + 40
    frame.loc[:200, "contract"] = "weekly"
    capture(ws, endpoint, frame, FIRST_HOUR)
    ws.monitors.create(endpoint, baseline=baseline)
    ws.monitors.run(endpoint)
    written = ws.monitors.export_sagemaker(endpoint, tmp_path / "out")
    assert [p.name for p in written] == [
        "statistics.json",
        "constraints.json",
        "constraint_violations.json",
    ]
    document = json.loads((tmp_path / "out" / "constraint_violations.json").read_text())
    assert set(document) == {"violations"}
    found = {(v["feature_name"], v["constraint_check_type"]) for v in document["violations"]}
    assert ("contract", "categorical_values_check") in found
    assert ("monthly_charges", "baseline_drift_check") in found
    assert all(set(v) == {"feature_name", "constraint_check_type", "description"}
               for v in document["violations"])  # fmt: skip
    # only the baseline's features are checked
    assert {f for f, _ in found} <= {"contract", "monthly_charges", ""}
    statistics = json.loads((tmp_path / "out" / "statistics.json").read_text())
    names = {f["name"] for f in statistics["features"]}
    assert names == {"monthly_charges", "contract"}
    exported = next(f for f in statistics["features"] if f["name"] == "monthly_charges")
    assert len(exported["numerical_statistics"]["distribution"]["kll"]["buckets"]) == 4


def test_sagemaker_capture_and_ground_truth_are_monitored(
    ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    import base64

    frame = datasets.churn(300, seed=91)
    loaded = ws.models.load("churn:1")
    scores = loaded.predict(frame.drop(columns=["churned"])).probabilities[:, 1]
    inputs = frame.drop(columns=["churned", "customer_id"])
    lines = []
    for i, (row, score) in enumerate(zip(inputs.to_dict("records"), scores, strict=True)):
        body = json.dumps([{k: (None if v != v else str(v)) for k, v in row.items()}])
        data = base64.b64encode(body.encode()).decode() if i % 2 else body
        lines.append(
            json.dumps(
                {
                    "captureData": {
                        "endpointInput": {
                            "observedContentType": "application/json",
                            "mode": "INPUT",
                            "data": data,
                            "encoding": "BASE64" if i % 2 else "JSON",
                        },
                        "endpointOutput": {
                            "observedContentType": "text/csv; charset=utf-8",
                            "mode": "OUTPUT",
                            "data": f"{score:.6f}",
                            "encoding": "CSV",
                        },
                    },
                    "eventMetadata": {
                        "eventId": f"evt-{i}",
                        "inferenceId": f"inf-{i}",
                        "inferenceTime": f"2026-11-02T00:{i % 60:02d}:00Z",
                    },
                    "eventVersion": "0",
                }
            )
        )
    capture_file = tmp_path / "capture.jsonl"
    capture_file.write_text("\n".join(lines))
    assert ws.monitors.import_sagemaker_capture([capture_file], endpoint) == 300
    truth = tmp_path / "truth.jsonl"
    truth.write_text(
        "\n".join(
            json.dumps(
                {
                    "groundTruthData": {"data": str(int(y)), "encoding": "CSV"},
                    "eventMetadata": {"eventId": f"inf-{i}"},
                    "eventVersion": "0",
                }
            )
            for i, y in enumerate(frame["churned"])
        )
    )
    ws.monitors.create(endpoint)
    run = ws.monitors.run(endpoint)
    assert run.windows == [f"{FIRST_HOUR:%Y-%m-%dT%H}"]
    (window,) = ws.monitors.history(endpoint)
    assert window["rows"] == 300 and window["failed_requests"] == 0
    assert [v for v in window["violations"] if v["check"] == "baseline_drift_check"] == []
    assert ws.monitors.ingest_labels(truth, endpoint).matched == 300
    (quality,) = ws.monitors.quality(endpoint)
    assert quality["realised"]["labelled"] == 300 and quality["realised"]["roc_auc"] > 0.7


# SageMaker's documented check types of constraint_violations.json
SAGEMAKER_CHECK_TYPES = {
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "categorical_values_check",
}


def test_missing_extra_and_mistyped_columns_reach_sagemakers_violations_file(
    monitor_root: Path, ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    frame = datasets.churn(300, seed=93)
    inputs = frame.drop(columns=["churned", "customer_id"])
    lines = []
    for i, row in enumerate(inputs.to_dict("records")):
        request = {k: (None if v != v else str(v)) for k, v in row.items()}
        request["coupon"] = "spring"  # a column the model does not read
        if i % 3 == 0:
            del request["support_calls"]  # a client that stopped sending it
        if i % 4 == 1:
            request["tenure_months"] = "unknown"  # not a number
        lines.append(
            json.dumps(
                {
                    "captureData": {
                        "endpointInput": {
                            "observedContentType": "application/json",
                            "mode": "INPUT",
                            "data": json.dumps([request]),
                            "encoding": "JSON",
                        },
                        "endpointOutput": {
                            "observedContentType": "text/csv; charset=utf-8",
                            "mode": "OUTPUT",
                            "data": "0.5",
                            "encoding": "CSV",
                        },
                    },
                    "eventMetadata": {
                        "eventId": f"evt-{i}",
                        "inferenceId": f"inf-{i}",
                        "inferenceTime": f"2026-11-02T00:{i % 60:02d}:00Z",
                    },
                    "eventVersion": "0",
                }
            )
        )
    capture_file = tmp_path / "capture.jsonl"
    capture_file.write_text("\n".join(lines))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "modelyard", "-w", str(monitor_root), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        return done

    imported = cli("monitor", "import-capture", str(capture_file), "--endpoint", endpoint)
    assert imported.stdout.startswith("300 captured invocations imported")
    ws.monitors.create(endpoint)
    assert ws.monitors.run(endpoint).windows == [f"{FIRST_HOUR:%Y-%m-%dT%H}"]
    (window,) = ws.monitors.history(endpoint)
    assert (window["requests"], window["rows"], window["failed_requests"]) == (300, 200, 100)
    assert window["missing_columns"] == {"support_calls": 100}
    assert "validation_failure_check" in {v["key"] for v in window["violations"]}
    out = tmp_path / "out"
    cli("monitor", "export", endpoint, str(out))
    document = json.loads((out / "constraint_violations.json").read_text())
    found = {(v["feature_name"], v["constraint_check_type"]) for v in document["violations"]}
    assert {
        ("support_calls", "missing_column_check"),
        ("coupon", "extra_column_check"),
        ("tenure_months", "data_type_check"),
    } <= found
    assert {check for _, check in found} <= SAGEMAKER_CHECK_TYPES
    missing = next(v for v in document["violations"] if v["feature_name"] == "support_calls")
    assert missing["description"].startswith("100 of 300 requests lack column 'support_calls'")
