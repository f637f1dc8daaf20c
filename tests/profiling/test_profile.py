"""Profiles of real dataset versions: planted issues are found, clean data is not flagged."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest

from modelyard import Profile, Workspace
from modelyard.data import IngestOptions
from tests.profiling._tables import N_ROWS, clean, planted


def _profile(workspace: Workspace, table: pa.Table, name: str, target: str | None = "y") -> Profile:
    version, _ = workspace.datasets.ingest_table(
        table, name, IngestOptions(target=target, split=None)
    )
    return workspace.datasets.profile(version)


@pytest.fixture
def planted_profile(workspace: Workspace) -> Profile:
    return _profile(workspace, planted(), "planted")


def _only(profile: Profile, kind: str, column: str) -> dict[str, object]:
    found = [w for w in profile.warnings_of(kind) if column in w.columns]
    seen = [(w.kind, w.columns) for w in profile.warnings]
    assert found, f"no {kind} warning on {column}: {seen}"
    return found[0].to_dict()


def test_constant_column_is_warned_with_its_evidence(planted_profile: Profile) -> None:
    warning = _only(planted_profile, "constant", "constant")
    assert warning["evidence"] == {"distinct": 1, "non_missing": N_ROWS}
    assert warning["suggestion"] == {"step": "drop", "columns": ["constant"]}


def test_identifier_column_is_warned(planted_profile: Profile) -> None:
    warning = _only(planted_profile, "identifier", "row_id")
    assert warning["evidence"]["distinct"] == N_ROWS  # type: ignore[index]
    assert warning["suggestion"] == {"step": "drop", "columns": ["row_id"]}


def test_leaking_column_is_warned_and_others_are_not(planted_profile: Profile) -> None:
    warning = _only(planted_profile, "target_leakage", "leak")
    evidence = warning["evidence"]
    assert evidence["target"] == "y" and evidence["value"] > 0.95  # type: ignore[index,operator]
    leaked = {c for w in planted_profile.warnings_of("target_leakage") for c in w.columns}
    assert leaked == {"leak"}


def test_mostly_missing_column_is_warned_with_its_share(planted_profile: Profile) -> None:
    warning = _only(planted_profile, "high_missing", "mostly_missing")
    assert warning["evidence"]["share"] == pytest.approx(0.6)  # type: ignore[index]
    assert warning["suggestion"] == {"step": "drop", "columns": ["mostly_missing"]}


def test_email_column_is_personal_data_with_masked_examples(planted_profile: Profile) -> None:
    warning = _only(planted_profile, "personal_data", "email")
    evidence = warning["evidence"]
    assert evidence["pattern"] == "e-mail addresses" and evidence["share"] == 1.0  # type: ignore[index]
    assert all("*" in e for e in evidence["examples"])  # type: ignore[index,union-attr]
    assert warning["suggestion"]["step"] == "hash"  # type: ignore[index]


def test_columns_equal_up_to_scale_are_one_correlated_pair(planted_profile: Profile) -> None:
    warning = _only(planted_profile, "high_correlation", "a")
    assert warning["columns"] == ["a", "a_scaled"]
    assert warning["evidence"]["value"] == pytest.approx(1.0)  # type: ignore[index]
    assert warning["suggestion"] == {"step": "drop", "columns": ["a_scaled"]}


def test_clean_table_has_no_warning(workspace: Workspace) -> None:
    profile = _profile(workspace, clean(), "clean")
    assert [(w.kind, w.columns, w.message) for w in profile.warnings] == []
    assert profile.target is not None and profile.target["task"] == "classification"
    assert {c["value"] for c in profile.target["classes"]} == {"0", "1"}


def test_statistics_match_the_data(workspace: Workspace) -> None:
    table = clean()
    profile = _profile(workspace, table, "clean")
    x1 = table.column("x1").to_numpy()
    stats = profile.column("x1")
    assert stats["mean"] == pytest.approx(x1.mean())
    assert stats["std"] == pytest.approx(x1.std(ddof=1))
    assert stats["min"] == x1.min() and stats["max"] == x1.max()
    assert sum(stats["histogram"]["counts"]) == N_ROWS
    assert stats["quantiles"]["p50"] == pytest.approx(float(np.median(x1)))
    colour = profile.column("colour")
    assert sum(t["count"] for t in colour["top"]) == N_ROWS
    day = profile.column("day")
    assert sum(day["by_month"].values()) == N_ROWS and len(day["by_weekday"]) == 7
    pearson = profile.correlations["pearson"]
    i, j = pearson["columns"].index("x1"), pearson["columns"].index("x2")
    expected = float(np.corrcoef(x1, table.column("x2").to_numpy())[0, 1])
    assert pearson["matrix"][i][j] == pytest.approx(expected, abs=1e-6)
    assert profile.table["duplicate_rows"] == 0
    assert [s["what"] for s in profile.sampling] == ["personal-data patterns"]


def test_a_second_profile_of_the_version_is_the_stored_one(workspace: Workspace) -> None:
    first = _profile(workspace, clean(400), "small")
    again = workspace.datasets.profile("small")
    assert again == first and again.seconds == first.seconds
    assert again.report_path is not None and again.report_path.read_text().startswith("<!DOCTYPE")
    stored = json.loads(json.dumps(first.to_dict()))
    assert Profile.from_dict(stored) == first
    fresh = workspace.datasets.profile("small", refresh=True)
    assert fresh.seconds != first.seconds and fresh.warnings == first.warnings


def test_large_table_is_sampled_and_says_so(workspace: Workspace) -> None:
    profile = _profile(workspace, clean(120_000), "big")
    sampled = [s for s in profile.sampling if "Spearman" in s["what"]]
    assert sampled and sampled[0]["rows"] == 100_000 and sampled[0]["of"] == 120_000
    assert profile.warnings == []


def test_notebook_view_lists_the_warnings(planted_profile: Profile) -> None:
    html = planted_profile._repr_html_()
    assert "target_leakage" in html and "<script" not in html
    assert not any(isinstance(v, float) and math.isnan(v) for v in planted_profile.table.values())
