"""Labels that arrive late, joined by inference id; realised, estimated and A/B quality."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from modelyard import datasets
from modelyard.errors import InvalidInputError
from modelyard.workspace import Workspace
from tests.monitoring.conftest import FIRST_HOUR, capture


def test_labels_for_30_percent_give_metrics_with_counts(
    ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    frame = datasets.churn(2000, seed=21)
    ids = capture(ws, endpoint, frame, FIRST_HOUR)
    ws.monitors.create(endpoint)
    ws.monitors.run(endpoint)
    (before,) = ws.monitors.quality(endpoint)
    assert before["realised"]["labelled"] == 0 and before["estimated"]["roc_auc"] > 0.7
    labelled = frame.sample(frac=0.3, random_state=0).index
    path = tmp_path / "labels.csv"
    pd.DataFrame(
        {"inference_id": [ids[i] for i in labelled], "label": frame.loc[labelled, "churned"]}
    ).to_csv(path, index=False)
    ingest = ws.monitors.ingest_labels(path, endpoint)
    assert ingest.matched == 600 and ingest.unknown_ids == 0
    (after,) = ws.monitors.quality(endpoint)
    assert after["variant"] == "a" and after["rows"] == 2000
    assert after["realised"]["labelled"] == 600
    assert 0.7 < after["realised"]["roc_auc"] <= 1.0
    # beside the model's registered evaluation (its held-out test split)
    registered = ws.models.get("churn:1").metrics["roc_auc"]
    assert after["registered"]["model"] == "churn:1"
    assert after["registered"]["roc_auc"] == registered
    assert after["versus_registered"]["roc_auc"] == after["realised"]["roc_auc"] - registered


def test_unknown_and_duplicate_ids_are_counted_and_the_rest_used(
    ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    frame = datasets.churn(300, seed=22)
    ids = capture(ws, endpoint, frame, FIRST_HOUR)
    ws.monitors.create(endpoint)
    ws.monitors.run(endpoint)
    pairs = zip(ids, frame["churned"], strict=True)
    lines = [{"inference_id": i, "label": int(y)} for i, y in pairs]
    lines += [{"inference_id": f"nobody-{k}", "label": 1} for k in range(40)]
    lines += [{"inference_id": ids[0], "label": 0}, {"inference_id": ids[1], "label": "maybe"}]
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    ingest = ws.monitors.ingest_labels(path, endpoint)
    assert (ingest.rows_read, ingest.matched, ingest.unknown_ids, ingest.duplicate_ids) == (
        342,
        300,
        40,
        2,
    )
    assert "40 of 342 labels match no captured request" in ingest.message
    assert "300 of 342 labels joined" in ingest.message
    (quality,) = ws.monitors.quality(endpoint)
    assert quality["realised"]["labelled"] == 300


def test_a_labels_file_with_nothing_usable_is_refused_and_writes_nothing(
    ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    capture(ws, endpoint, datasets.churn(50, seed=23), FIRST_HOUR)
    path = tmp_path / "labels.csv"
    path.write_text("inference_id,label\nnobody,1\n")
    with pytest.raises(InvalidInputError, match="1 of 1 labels match no captured request"):
        ws.monitors.ingest_labels(path, endpoint)
    assert not list((ws.settings.state_dir / "labels").glob(f"endpoint={endpoint}/*"))
    wrong = tmp_path / "labels.txt"
    wrong.write_text("x")
    with pytest.raises(InvalidInputError, match="unknown format"):
        ws.monitors.ingest_labels(wrong, endpoint)


def test_sagemaker_ground_truth_lines_are_read(
    ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    frame = datasets.churn(200, seed=24)
    ids = capture(ws, endpoint, frame, FIRST_HOUR)
    path = tmp_path / "gt.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(
                {
                    "groundTruthData": {"data": str(int(y)), "encoding": "CSV"},
                    "eventMetadata": {"eventId": i},
                    "eventVersion": "0",
                }
            )
            for i, y in zip(ids, frame["churned"], strict=True)
        )
    )
    assert ws.monitors.ingest_labels(path, endpoint).matched == 200


def test_estimated_roc_auc_is_within_003_of_the_realised_one_without_drift(
    ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    frame = datasets.churn(6000, seed=25)
    ids = capture(ws, endpoint, frame, FIRST_HOUR)
    ws.monitors.create(endpoint)
    ws.monitors.run(endpoint)
    path = tmp_path / "labels.parquet"
    pd.DataFrame({"inference_id": ids, "label": frame["churned"]}).to_parquet(path)
    ws.monitors.ingest_labels(path, endpoint)
    (quality,) = ws.monitors.quality(endpoint)
    estimated, realised = quality["estimated"]["roc_auc"], quality["realised"]["roc_auc"]
    assert abs(estimated - realised) < 0.03, (estimated, realised)


def test_the_better_of_two_variants_is_named_with_its_p_value(
    ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    frames = {"a": datasets.churn(5000, seed=26), "b": datasets.churn(5000, seed=27)}
    rows = []
    for k, (variant, frame) in enumerate(frames.items()):
        model = "churn:1" if variant == "a" else "churn:2"
        ids = capture(
            ws, endpoint, frame, FIRST_HOUR + timedelta(hours=k), variant=variant, model=model
        )
        rows += list(zip(ids, frame["churned"], strict=True))
    ws.monitors.create(endpoint)
    ws.monitors.run(endpoint)
    path = tmp_path / "labels.csv"
    pd.DataFrame(rows, columns=["inference_id", "label"]).to_csv(path, index=False)
    ws.monitors.ingest_labels(path, endpoint)
    comparison = ws.monitors.compare_variants(endpoint)
    assert comparison is not None
    assert comparison.better == "a" and comparison.worse == "b" and comparison.significant
    assert comparison.pvalue < 0.001
    assert comparison.verdict.startswith("a beats b on roc_auc by ")
    assert "5,000 and 5,000 labelled rows" in comparison.verdict


def test_labels_that_are_not_classes_are_counted_and_numeric_looking_ids_kept_as_text(
    monitor_root: Path, ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    frame = datasets.churn(200, seed=29)
    ids = capture(ws, endpoint, frame, FIRST_HOUR, ids=[f"{i:05d}" for i in range(200)])
    labels = [str(y) for y in frame["churned"][:150]] + ["yes"] * 50  # 50 not a class
    path = tmp_path / "labels.csv"
    pd.DataFrame({"inference_id": ids, "label": labels}).to_csv(path, index=False)
    command = [sys.executable, "-m", "modelyard", "-w", str(monitor_root), "labels", "ingest"]
    done = subprocess.run(
        [*command, str(path), "--endpoint", endpoint], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"150 of 200 labels joined to {endpoint}; 50 have a label that is not a class of the model"
    )
    # a label column of another task: refused in one line, nothing written
    stored = sorted((ws.settings.state_dir / "labels").glob(f"endpoint={endpoint}/*"))
    wrong = tmp_path / "wrong.csv"
    pd.DataFrame({"inference_id": ids, "label": ["yes", "no"] * 100}).to_csv(wrong, index=False)
    refused = subprocess.run(
        [*command, str(wrong), "--endpoint", endpoint], capture_output=True, text=True, timeout=300
    )
    assert refused.returncode != 0
    assert refused.stderr.strip().count("\n") == 0
    assert "200 have a label that is not a class of the model" in refused.stderr
    assert sorted((ws.settings.state_dir / "labels").glob(f"endpoint={endpoint}/*")) == stored
