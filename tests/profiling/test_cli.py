"""``modelyard data profile`` and ``data compare`` through a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pv

from modelyard import Workspace, datasets
from tests.conftest import Cli
from tests.profiling._tables import planted


def _ingest(cli: Cli, tmp_path: Path, name: str, drift: float, seed: int) -> None:
    path = tmp_path / f"{name}-{seed}.csv"
    datasets.churn(3_000, seed=seed, drift=drift).to_csv(path, index=False)
    cli("data", "ingest", str(path), "--name", name, "--target", "churned")


def test_profile_prints_warnings_and_the_report_path(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "planted.csv"
    pv.write_csv(planted(), path)
    cli("data", "ingest", str(path), "--name", "planted", "--target", "y")
    result = cli("data", "profile", "planted")
    assert "target_leakage" in result.stdout and "leak" in result.stdout
    assert "personal_data" in result.stdout and "email" in result.stdout
    report = Path(result.stdout.split("report: ")[1].split()[0])
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

    output = tmp_path / "out" / "planted.html"
    output.parent.mkdir()
    document = json.loads(cli("data", "profile", "planted:1", "--json", "-o", str(output)).stdout)
    assert document["report_path"] == str(output) and output.read_bytes() == report.read_bytes()
    kinds = {w["kind"] for w in document["warnings"]}
    assert {"constant", "identifier", "target_leakage", "high_missing"} <= kinds
    assert {"personal_data", "high_correlation"} <= kinds
    assert all("step" in w["suggestion"] for w in document["warnings"])


def test_compare_names_the_shifted_column(cli: Cli, tmp_path: Path) -> None:
    _ingest(cli, tmp_path, "churn", 0.0, 7)
    _ingest(cli, tmp_path, "churn", 0.8, 8)
    document = json.loads(cli("data", "compare", "churn:1", "churn:2", "--json").stdout)
    levels = {c["name"]: (c["shift"] or {}).get("level") for c in document["columns"]}
    assert levels["monthly_charges"] == "major"
    assert levels["num_lines"] == "stable"
    assert levels["customer_id"] is None
    text = cli("data", "compare", "churn:1", "churn:2").stdout
    assert "major shift: " in text and "monthly_charges" in text.split("major shift: ")[1]


def test_compare_of_a_version_with_itself_shows_no_shift(
    cli: Cli, tmp_path: Path, workspace: Workspace
) -> None:
    _ingest(cli, tmp_path, "same", 0.0, 3)
    result = workspace.datasets.compare("same:1", "same:1")
    assert result.shifted("moderate") == []
    assert "no major shift" in cli("data", "compare", "same", "same:1").stdout


def test_unknown_dataset_is_one_line_and_non_zero(cli: Cli) -> None:
    result = cli("data", "profile", "nothing:3", check=False)
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert "nothing" in (result.stdout + result.stderr).strip().splitlines()[-1]
    result = cli("data", "compare", "a", "b", check=False)
    assert result.exit_code != 0 and "Traceback" not in result.stderr
