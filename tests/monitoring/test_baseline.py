"""``monitor baseline DATASET``: a dataset version's statistics as SageMaker's files,
edited by hand, then monitored against (through the CLI, as a user does it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from modelyard import datasets
from modelyard.workspace import Workspace
from tests.monitoring.conftest import FIRST_HOUR, capture


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelyard", "-w", str(root), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_dataset_baseline_is_written_edited_and_monitored(
    monitor_root: Path, ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    folder = tmp_path / "baseline"
    written = _cli(
        monitor_root, "monitor", "baseline", "churn:1", "--split", "train", "-o", str(folder)
    )
    assert written.returncode == 0, written.stderr
    assert written.stdout.split() == [
        str(folder / "statistics.json"),
        str(folder / "constraints.json"),
    ]
    statistics = json.loads((folder / "statistics.json").read_text())
    constraints = json.loads((folder / "constraints.json").read_text())
    # SageMaker's shapes, and the version described
    assert statistics["dataset"]["modelyard_dataset"] == {"ref": "churn:1", "split": "train"}
    train_rows = ws.datasets.read("churn:1", split="train").num_rows
    assert statistics["dataset"]["item_count"] == train_rows
    features = {f["name"]: f for f in statistics["features"]}
    assert "customer_id" not in features and "churned" not in features  # id and target
    charges = features["total_charges"]["numerical_statistics"]
    assert charges["common"]["num_present"] + charges["common"]["num_missing"] == train_rows
    assert features["contract"]["string_statistics"]["distribution"]["categorical"]["buckets"]
    assert {c["name"] for c in constraints["features"]} == set(features)

    # traffic from the training population, with a fifth of total_charges missing
    frame = datasets.churn(800, seed=30)
    frame.loc[frame.index[::5], "total_charges"] = None
    capture(ws, endpoint, frame, FIRST_HOUR)

    as_written = _cli(monitor_root, "monitor", "create", endpoint, "--baseline", str(folder))
    assert as_written.returncode == 0, as_written.stderr
    # the user accepts up to half of total_charges missing: the edited constraint holds
    for feature in constraints["features"]:
        if feature["name"] == "total_charges":
            feature["completeness"] = 0.5
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "statistics.json").write_text(json.dumps(statistics))
    (edited / "constraints.json").write_text(json.dumps(constraints))
    loose = _cli(
        monitor_root, "monitor", "create", endpoint, "--name", f"{endpoint}-loose",
        "--baseline", str(edited),
    )  # fmt: skip
    assert loose.returncode == 0, loose.stderr

    strict_run = json.loads(_cli(monitor_root, "monitor", "run", endpoint, "--json").stdout)
    loose_run = json.loads(
        _cli(monitor_root, "monitor", "run", f"{endpoint}-loose", "--json").stdout
    )
    strict_keys = {a["key"] for a in strict_run["alerts"]}
    # booleans and dates are read as the model reads them, not refused as not numbers;
    # nothing drifted, so the missing charges are the only finding
    assert strict_keys == {"completeness_check:total_charges"}
    assert loose_run["windows"] == strict_run["windows"] and loose_run["alerts"] == []
    # the multivariate check was fitted on the described rows
    assert ws.monitors.get(endpoint).spec["multivariate"] is not None


def test_baseline_errors_are_one_line(monitor_root: Path, tmp_path: Path) -> None:
    unknown = _cli(monitor_root, "monitor", "baseline", "nope:3", "-o", str(tmp_path / "b"))
    assert unknown.returncode != 0 and "nope" in unknown.stderr
    assert unknown.stderr.strip().count("\n") == 0
    split = _cli(
        monitor_root, "monitor", "baseline", "churn:1", "--split", "later", "-o", str(tmp_path)
    )
    assert split.returncode != 0 and "later" in split.stderr
    assert not (tmp_path / "statistics.json").exists()
