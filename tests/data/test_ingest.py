"""Ingesting datasets: versions by content, schema inference, splits, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.data import IngestOptions, LogicalType, Role, SplitSpec
from modelyard.errors import (
    ConfigurationError,
    InvalidInputError,
    ModelyardError,
    NotFoundError,
    StorageError,
)
from modelyard.workspace import Workspace


def _frame(n_rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n_rows)],
            "age": rng.integers(18, 90, n_rows),
            "income": np.where(rng.random(n_rows) < 0.1, np.nan, rng.normal(50_000, 9_000, n_rows)),
            "plan": rng.choice(["basic", "plus", "pro"], n_rows),
            "active": rng.random(n_rows) < 0.5,
            "signup": pd.date_range("2024-01-01", periods=n_rows, freq="D"),
            "churned": (rng.random(n_rows) < 0.3).astype(int),
        }
    )


def _artifact_files(ws: Workspace) -> list[Path]:
    return sorted(p for p in Path(ws.settings.resolved_artifact_url).rglob("*") if p.is_file())


def test_schema_inference(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    _frame().to_csv(path, index=False)
    version, created = workspace.datasets.ingest(path, "customers", IngestOptions(target="churned"))
    assert created and version.ref == "customers:1"
    types = {c.name: c.logical_type for c in version.columns}
    assert types == {
        "customer_id": LogicalType.IDENTIFIER,
        "age": LogicalType.INTEGER,
        "income": LogicalType.NUMERIC,
        "plan": LogicalType.CATEGORICAL,
        "active": LogicalType.BOOLEAN,
        "signup": LogicalType.DATETIME,
        "churned": LogicalType.INTEGER,
    }
    assert version.column("customer_id").role is Role.IDENTIFIER
    assert version.target == "churned"
    assert 0.05 < version.column("income").missing_share < 0.15
    assert version.column("plan").distinct_count == 3
    assert set(version.column("plan").examples) <= {"basic", "plus", "pro"}


def test_same_content_same_version_changed_content_new_version(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    first, created_first = workspace.datasets.ingest(path, "d")
    again, created_again = workspace.datasets.ingest(path, "d")
    assert created_first and not created_again
    assert again.version == first.version == 1
    _frame(seed=1).to_csv(path, index=False)
    changed, created_changed = workspace.datasets.ingest(path, "d")
    assert created_changed and changed.version == 2
    assert [v.version for v in workspace.datasets.list_versions("d")] == [2, 1]


def test_formats_give_the_same_rows(workspace: Workspace, tmp_path: Path) -> None:
    frame = _frame(50)
    frame.to_parquet(tmp_path / "d.parquet", index=False)
    frame.to_json(tmp_path / "d.jsonl", orient="records", lines=True, date_format="iso")
    from_parquet, _ = workspace.datasets.ingest(
        tmp_path / "d.parquet", "p", IngestOptions(split=None)
    )
    from_jsonl, _ = workspace.datasets.ingest(tmp_path / "d.jsonl", "j", IngestOptions(split=None))
    assert from_parquet.n_rows == from_jsonl.n_rows == 50
    parquet_rows = workspace.datasets.read(from_parquet).to_pandas()
    assert parquet_rows["plan"].tolist() == frame["plan"].tolist()


def test_overrides_change_types_and_roles(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    version, _ = workspace.datasets.ingest(
        path,
        "d",
        IngestOptions(
            target="churned",
            types={"age": "categorical", "churned": "boolean"},
            roles={"plan": "ignore"},
        ),
    )
    assert version.column("age").logical_type is LogicalType.CATEGORICAL
    assert version.column("plan").role is Role.IGNORE
    assert "plan" not in [c.name for c in version.feature_columns()]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (IngestOptions(target="nope"), "no such column"),
        (IngestOptions(types={"plan": "vector"}), "unknown type 'vector'"),
        (IngestOptions(roles={"plan": "boss"}), "unknown role 'boss'"),
        (IngestOptions(types={"plan": "numeric"}), "column 'plan' cannot be read as numeric"),
        (IngestOptions(split=SplitSpec(time_column="plan")), "not a datetime"),
    ],
)
def test_bad_options_name_the_column(
    workspace: Workspace, tmp_path: Path, options: IngestOptions, message: str
) -> None:
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    with pytest.raises(InvalidInputError, match=message):
        workspace.datasets.ingest(path, "d", options)
    assert workspace.datasets.list_versions() == []
    assert _artifact_files(workspace) == []


def test_splits_are_stratified_reproducible_and_stored(
    workspace: Workspace, tmp_path: Path
) -> None:
    frame = _frame(1000)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    version, _ = workspace.datasets.ingest(path, "d", IngestOptions(target="churned"))
    assert version.split_summary is not None
    assert version.split_summary["method"] == "stratified"
    counts = version.split_summary["counts"]
    assert counts == {"train": 700, "validation": 150, "test": 150}
    overall = frame["churned"].mean()
    for split in ("train", "validation", "test"):
        part = workspace.datasets.read(version, split=split).to_pandas()
        assert len(part) == counts[split]
        assert abs(part["churned"].mean() - overall) < 0.02
    ids = {
        s: set(workspace.datasets.read(version, split=s).column("customer_id").to_pylist())
        for s in counts
    }
    assert not (ids["train"] & ids["test"]) and not (ids["train"] & ids["validation"])
    other, _ = workspace.datasets.ingest(path, "copy", IngestOptions(target="churned"))
    other_test = workspace.datasets.read(other, split="test").column("customer_id").to_pylist()
    assert set(other_test) == ids["test"]


def test_time_ordered_split_puts_the_newest_rows_in_test(
    workspace: Workspace, tmp_path: Path
) -> None:
    frame = _frame(100).sample(frac=1, random_state=3)
    path = tmp_path / "d.parquet"
    frame.to_parquet(path, index=False)
    version, _ = workspace.datasets.ingest(
        path, "d", IngestOptions(split=SplitSpec(time_column="signup"))
    )
    train = workspace.datasets.read(version, split="train").column("signup").to_pandas()
    test = workspace.datasets.read(version, split="test").column("signup").to_pandas()
    assert train.max() < test.min()


def test_a_different_seed_is_a_different_version(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    one, _ = workspace.datasets.ingest(path, "d", IngestOptions(split=SplitSpec(seed=1)))
    two, created = workspace.datasets.ingest(path, "d", IngestOptions(split=SplitSpec(seed=2)))
    assert created and two.version == one.version + 1


def _write_bad(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "nowhere.csv"
    path = (
        tmp_path
        / {
            "empty": "e.csv",
            "ragged": "r.csv",
            "fake-parquet": "f.parquet",
            "header-only": "h.csv",
            "bad-json": "b.jsonl",
        }[kind]
    )
    content = {
        "empty": "",
        "ragged": "a,b,c\n1,2,3\n4,5\n6,7,8,9\n",
        "fake-parquet": "this,is\nnot,parquet\n",
        "header-only": "a,b,c\n",
        "bad-json": '{"a": 1}\n{"a": \n',
    }[kind]
    path.write_text(content)
    return path


@pytest.mark.parametrize(
    ("kind", "error", "message"),
    [
        ("missing", NotFoundError, "file not found"),
        ("empty", InvalidInputError, "is empty"),
        ("ragged", InvalidInputError, "line 3 has 2 fields where the header has 3"),
        ("fake-parquet", InvalidInputError, "as parquet"),
        ("header-only", InvalidInputError, "no rows"),
        ("bad-json", InvalidInputError, "as jsonl"),
    ],
)
def test_bad_files_leave_nothing_behind(
    workspace: Workspace, tmp_path: Path, kind: str, error: type[Exception], message: str
) -> None:
    path = _write_bad(tmp_path, kind)
    with pytest.raises(error, match=message) as caught:
        workspace.datasets.ingest(path, "bad")
    assert path.name in str(caught.value)
    assert workspace.datasets.list_versions() == []
    assert _artifact_files(workspace) == []


def test_sql_ingest_from_sqlite(workspace: Workspace, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    engine = sa.create_engine(url)
    _frame(120).to_sql("customers", engine, index=False)
    engine.dispose()
    version, _ = workspace.datasets.ingest_sql(
        "SELECT * FROM customers WHERE age >= 18", url, "from_sql", IngestOptions(target="churned")
    )
    assert version.n_rows == 120 and version.source_format == "sql"
    assert version.target == "churned"


@pytest.mark.postgres
def test_sql_ingest_from_postgres(workspace: Workspace, postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    _frame(80).to_sql("customers", engine, index=False)
    engine.dispose()
    version, _ = workspace.datasets.ingest_sql("SELECT * FROM customers", postgres_url, "pg")
    assert version.n_rows == 80
    with pytest.raises(InvalidInputError, match="no_such_table"):
        workspace.datasets.ingest_sql("SELECT * FROM no_such_table", postgres_url, "pg2")


@pytest.mark.parametrize(
    ("query", "url", "error", "message"),
    [
        ("SELECT * FROM missing_table", "sqlite:///{tmp}/s.db", InvalidInputError, "missing_table"),
        ("SELEC nonsense", "sqlite:///{tmp}/s.db", InvalidInputError, "syntax error"),
        ("SELECT 1", "not-a-url", ConfigurationError, "bad database URL"),
        ("SELECT 1", "postgresql+psycopg://x@127.0.0.1:1/db", StorageError, "cannot connect"),
    ],
)
def test_bad_sql_sources_leave_nothing_behind(
    workspace: Workspace,
    tmp_path: Path,
    query: str,
    url: str,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        workspace.datasets.ingest_sql(query, url.format(tmp=tmp_path), "bad")
    assert workspace.datasets.list_versions() == []
    assert _artifact_files(workspace) == []


def test_diff_reports_columns_and_rows(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    frame = _frame()
    frame.to_csv(path, index=False)
    workspace.datasets.ingest(path, "d")
    changed = frame.drop(columns=["plan"]).assign(score=1.5, age=frame["age"].astype(float) + 0.5)
    changed.head(150).to_csv(path, index=False)
    workspace.datasets.ingest(path, "d")
    diff = workspace.datasets.diff("d:1", "d:2")
    assert diff.added == ["score"] and diff.removed == ["plan"]
    assert diff.retyped == [{"column": "age", "old": "integer", "new": "numeric"}]
    assert (diff.rows_old, diff.rows_new) == (200, 150)


def test_unknown_dataset_and_version(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="dataset nope not found"):
        workspace.datasets.get("nope")
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    workspace.datasets.ingest(path, "d")
    with pytest.raises(NotFoundError, match="versions: 1"):
        workspace.datasets.get("d:7")
    with pytest.raises(InvalidInputError, match="invalid version"):
        workspace.datasets.get("d:x")


def test_tampered_dataset_file_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    version, _ = workspace.datasets.ingest(path, "d")
    stored = Path(workspace.settings.resolved_artifact_url) / "sha256" / version.data_digest[:2]
    target = stored / version.data_digest
    target.write_bytes(target.read_bytes()[:-20])
    from modelyard.errors import IntegrityError

    with pytest.raises(IntegrityError):
        workspace.datasets.read(version)


_cells = st.one_of(
    st.none(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.booleans(),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    columns=st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=4, unique=True),
    data=st.data(),
)
def test_any_table_ingests_or_fails_cleanly(
    workspace: Workspace, columns: list[str], data: st.DataObject
) -> None:
    n_rows = data.draw(st.integers(0, 30))
    values = {
        name: data.draw(st.lists(_cells, min_size=n_rows, max_size=n_rows)) for name in columns
    }
    before = len(workspace.datasets.list_versions())
    try:
        table = pa.table(
            {
                name: pa.array([str(v) if v is not None else None for v in vals], pa.string())
                for name, vals in values.items()
            }
        )
        version, _ = workspace.datasets.ingest_table(table, "fuzz", IngestOptions())
    except ModelyardError:
        assert len(workspace.datasets.list_versions()) == before
        return
    assert version.n_rows == n_rows
    assert {c.name for c in version.columns} == set(columns)
