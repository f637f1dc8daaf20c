"""Odd data: the profile completes, says what it could not compute, never raises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard import ColumnSchema, LogicalType, Role, Workspace
from modelyard.data import IngestOptions
from modelyard.profiling import Profile
from modelyard.profiling._profile import profile_parquet
from modelyard.profiling._report import render_report


def _column(
    name: str, logical: LogicalType, role: Role = Role.FEATURE, distinct: int = 0
) -> ColumnSchema:
    return ColumnSchema(name, logical, "", role, 0.0, distinct)


def _reasons(profile: Profile) -> list[str]:
    return [f"{n['what']}: {n['reason']}" for n in profile.not_computed]


def test_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    empty = pa.table(
        {
            "x": pa.array([], pa.float64()),
            "c": pa.array([], pa.string()),
            "d": pa.array([], pa.timestamp("us")),
        }
    )
    pq.write_table(empty, path)
    schema = [
        _column("x", LogicalType.NUMERIC),
        _column("c", LogicalType.CATEGORICAL, Role.TARGET),
        _column("d", LogicalType.DATETIME),
    ]
    profile = profile_parquet(path, schema, "empty:1")
    assert profile.n_rows == 0 and profile.warnings == []
    assert _reasons(profile) == ["statistics, correlations, warnings: no rows"]
    assert "no rows" in render_report(profile)


def test_one_row(workspace: Workspace) -> None:
    table = pa.table({"x": [1.5], "c": ["a"], "y": [1]})
    version, _ = workspace.datasets.ingest_table(table, "one", IngestOptions(split=None))
    profile = workspace.datasets.profile(version)
    assert profile.n_rows == 1 and profile.column("x")["mean"] == 1.5
    assert profile.column("x")["std"] is None
    assert "spread, skewness, correlations, target association: only 1 row" in _reasons(profile)
    assert profile.warnings == []


def test_all_null_column(workspace: Workspace) -> None:
    table = pa.table({"empty": pa.array([None] * 40, pa.float64()), "x": np.arange(40) % 7})
    version, _ = workspace.datasets.ingest_table(table, "nulls", IngestOptions(split=None))
    profile = workspace.datasets.profile(version)
    assert profile.column("empty")["missing_share"] == 1.0
    assert "statistics, correlations: no values (all missing)" in _reasons(profile)
    assert [n["columns"] for n in profile.not_computed if "all missing" in n["reason"]] == [
        ["empty"]
    ]


def test_mixed_types_are_warned(workspace: Workspace) -> None:
    values = [str(i * 1.5) if i % 4 else f"n/a-{i}" for i in range(200)]
    table = pa.table({"mixed": values, "x": np.arange(200) % 9})
    version, _ = workspace.datasets.ingest_table(
        table, "mixed", IngestOptions(split=None, types={"mixed": "categorical"})
    )
    profile = workspace.datasets.profile(version)
    [warning] = profile.warnings_of("mixed_types")
    assert warning.columns == ["mixed"] and warning.evidence["numeric_share"] == 0.75
    assert warning.suggestion == {"step": "to_numeric", "columns": ["mixed"], "errors": "coerce"}


def test_text_from_latin1_csv_is_profiled(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    rows = "".join(f"{'café' if i % 2 else 'thé'},{i % 5}\n" for i in range(60))
    path.write_bytes(("drink,n\n" + rows).encode("latin-1"))
    version, _ = workspace.datasets.ingest(path, "drinks", IngestOptions(encoding="latin-1"))
    profile = workspace.datasets.profile(version)
    assert {t["value"] for t in profile.column("drink")["top"]} == {"café", "thé"}


def test_text_that_is_not_utf8_in_parquet_is_noted(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    raw = pa.array([b"ok", b"caf\xe9", b"\xff\xfe"] * 10, pa.binary()).view(pa.string())
    pq.write_table(pa.table({"s": raw, "x": np.arange(30) % 4}), path)
    schema = [_column("s", LogicalType.CATEGORICAL), _column("x", LogicalType.INTEGER)]
    profile = profile_parquet(path, schema, "bad:1")
    [note] = profile.not_computed
    assert note["columns"] == ["s"] and "UTF8" in note["reason"]
    assert profile.column("x")["count"] == 30
    assert "UTF8" in render_report(profile)


@pytest.mark.slow
def test_two_thousand_columns(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    columns = {f"c{i}": rng.normal(size=40) for i in range(1_000)}
    columns |= {f"k{i}": rng.choice(["a", "b", "c"], 40) for i in range(1_000)}
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table(columns), path)
    schema = [
        _column(name, LogicalType.NUMERIC, distinct=40)
        if name.startswith("c")
        else _column(name, LogicalType.CATEGORICAL, distinct=3)
        for name in columns
    ]
    profile = profile_parquet(path, schema, "wide:1")
    assert profile.n_columns == 2_000 and len(profile.columns) == 2_000
    assert len(profile.correlations["pearson"]["columns"]) == 100
    left_out = {n["what"]: len(n["columns"]) for n in profile.not_computed}
    assert left_out["correlations of numeric columns"] == 900
    assert "per-column plots" in render_report(profile)


_CELLS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**62), 2**62),
    st.text(max_size=8),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    numbers=st.lists(st.one_of(st.none(), st.floats()), min_size=0, max_size=30),
    texts=st.lists(st.one_of(st.none(), st.text(max_size=6)), min_size=0, max_size=30),
    target_is_text=st.booleans(),
)
def test_any_small_table_profiles_without_raising(
    tmp_path: Path, numbers: list[float | None], texts: list[str | None], target_is_text: bool
) -> None:
    size = min(len(numbers), len(texts))
    table = pa.table(
        {
            "n": pa.array(numbers[:size], pa.float64()),
            "t": pa.array(texts[:size], pa.string()),
        }
    )
    path = tmp_path / "fuzz.parquet"
    pq.write_table(table, path)
    schema = [
        _column("n", LogicalType.NUMERIC, Role.FEATURE if target_is_text else Role.TARGET),
        _column("t", LogicalType.CATEGORICAL, Role.TARGET if target_is_text else Role.FEATURE),
    ]
    profile = profile_parquet(path, schema, "fuzz:1")
    assert profile.n_rows == size
    html = render_report(profile)
    assert html.startswith("<!DOCTYPE html>")
    assert Profile.from_dict(profile.to_dict()) == profile
