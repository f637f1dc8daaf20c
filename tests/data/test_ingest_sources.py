"""Ingest of real-world files: truncation, encodings, Arrow types, dates, staging.

Each finding of issue 16 (finding 3) and issue 17 (finding 9) is checked through the
CLI as a subprocess and through the SDK.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.data import IngestOptions, LogicalType, Role
from modelyard.errors import InvalidInputError, ModelyardError
from modelyard.workspace import Workspace
from tests.conftest import Cli


def _one_error_line(result: object) -> str:
    stderr = result.stderr  # type: ignore[attr-defined]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error:")
    return lines[0]


def _nothing_stored(cli: Cli) -> None:
    assert json.loads(cli("data", "list", "--json").stdout) == []
    artifacts = cli.workspace / ".modelyard" / "artifacts"
    assert [p for p in artifacts.rglob("*") if p.is_file()] == []


def _rows_csv(n_rows: int) -> list[str]:
    return ["id,name,score"] + [f"{i},name{i},{i * 1.5}" for i in range(n_rows)]


# -- a CSV read to its end ---------------------------------------------------------


def test_an_unterminated_quote_is_an_error_naming_its_line(cli: Cli, tmp_path: Path) -> None:
    rows = _rows_csv(1000)
    rows[998] = '997,name997,"1.5'  # the quote opens on line 999 and never closes
    path = tmp_path / "quoted.csv"
    path.write_text("\n".join(rows) + "\n")
    result = cli("data", "ingest", str(path), "--name", "q", check=False)
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert "line 999" in line and "quote" in line and "quoted.csv" in line
    _nothing_stored(cli)


def test_an_early_unterminated_quote_is_refused_through_the_sdk(
    workspace: Workspace, tmp_path: Path
) -> None:
    rows = _rows_csv(1000)
    rows[4] = '3,"name3,4.5'
    path = tmp_path / "early.csv"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(InvalidInputError, match="line 5"):
        workspace.datasets.ingest(path, "q")
    assert workspace.datasets.list_versions() == []


def test_values_with_line_breaks_and_blank_lines_are_all_kept(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "multiline.csv"
    path.write_text('a,b\n1,"two\nlines"\n\n2,plain\n3,"say ""hi"""\n')
    version, _ = workspace.datasets.ingest(path, "m", IngestOptions(split=None))
    assert version.n_rows == 3
    assert workspace.datasets.read(version).column("b").to_pylist() == [
        "two\nlines",
        "plain",
        'say "hi"',
    ]


# -- encodings ---------------------------------------------------------------------


def test_latin1_is_refused_with_a_hint_then_read_with_encoding(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "cities.csv"
    rows = ["city,visits"] + [f"{c},{i}" for i, c in enumerate(["centré", "paris", "köln"] * 20)]
    path.write_bytes(("\n".join(rows) + "\n").encode("latin-1"))
    refused = cli("data", "ingest", str(path), "--name", "cities", check=False)
    assert refused.exit_code == 2
    line = _one_error_line(refused)
    assert "not UTF-8" in line and "line 2" in line and "--encoding" in line
    _nothing_stored(cli)
    created = cli(
        "data", "ingest", str(path), "--name", "cities", "--encoding", "latin-1", "--json"
    )
    shown = json.loads(created.stdout)
    city = next(c for c in shown["columns"] if c["name"] == "city")
    assert city["logical_type"] == "categorical" and city["physical_type"] == "string"
    head = json.loads(cli("data", "head", "cities", "-n", "3", "--json").stdout)
    assert [row["city"] for row in head] == ["centré", "paris", "köln"]


def test_a_utf8_bom_is_not_part_of_the_first_column_name(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffa,b\n1,é\n2,x\n".encode())
    version, _ = workspace.datasets.ingest(path, "bom", IngestOptions(split=None))
    assert [c.name for c in version.columns] == ["a", "b"]
    assert workspace.datasets.read(version).column("b").to_pylist() == ["é", "x"]


# -- Arrow types -------------------------------------------------------------------


def test_an_all_empty_csv_column_is_kept_and_ignored(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "empty_column.csv"
    path.write_text("a,blank,c\n" + "".join(f"{i},,x{i % 3}\n" for i in range(50)))
    shown = json.loads(cli("data", "ingest", str(path), "--name", "e", "--json").stdout)
    blank = next(c for c in shown["columns"] if c["name"] == "blank")
    assert blank["missing_share"] == 1.0 and blank["role"] == "ignore"
    assert shown["rows"] == 50


def _pandas_parquet(path: Path) -> None:
    frame = pd.DataFrame(
        {
            "plan": pd.Categorical(["basic", "pro", "basic", None] * 10),
            "nothing": [None] * 40,
            "amount": [decimal.Decimal("1.25")] * 40,
            "age": np.arange(40),
        }
    )
    frame.to_parquet(path, index=False)


def test_pandas_category_all_null_and_decimal_columns_ingest(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "pandas.parquet"
    _pandas_parquet(path)
    shown = json.loads(cli("data", "ingest", str(path), "--name", "p", "--json").stdout)
    types = {c["name"]: (c["logical_type"], c["physical_type"]) for c in shown["columns"]}
    assert types["plan"] == ("categorical", "string")
    assert types["nothing"][1] == "string"
    assert types["amount"] == ("numeric", "double")
    version = workspace.datasets.get("p")
    assert version.column("nothing").role is Role.IGNORE
    plan = workspace.datasets.read(version).column("plan").to_pylist()
    assert plan[:4] == ["basic", "pro", "basic", None]


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        (pa.array([{"x": 1}, {"x": 2}]), "struct"),
        (pa.array([[1, 2], [3]]), "list"),
        (pa.array([[("k", 1)], [("k", 2)]], pa.map_(pa.string(), pa.int64())), "map"),
    ],
)
def test_nested_columns_are_refused_naming_column_and_type(
    cli: Cli, tmp_path: Path, column: pa.Array, kind: str
) -> None:
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"ok": [1, 2], "deep": column}), path)
    result = cli("data", "ingest", str(path), "--name", "n", check=False)
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert "column 'deep'" in line and kind in line
    _nothing_stored(cli)


_frames = st.lists(
    st.sampled_from(
        [
            "int",
            "float",
            "text",
            "bool",
            "category",
            "none",
            "datetime",
            "zoned",
            "timedelta",
            "decimal",
            "bytes",
            "list",
            "dict",
            "date",
            "nullable_int",
        ]
    ),
    min_size=1,
    max_size=5,
)


def _column(kind: str, n_rows: int, draw: st.DrawFn) -> object:
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    if kind == "int":
        return rng.integers(-5, 5, n_rows)
    if kind == "float":
        values = rng.normal(size=n_rows)
        values[rng.random(n_rows) < 0.3] = np.nan
        return values
    if kind == "text":
        return draw(st.lists(st.text(max_size=5) | st.none(), min_size=n_rows, max_size=n_rows))
    if kind == "bool":
        return rng.random(n_rows) < 0.5
    if kind == "category":
        return pd.Categorical(rng.choice(["a", "b", "c"], n_rows))
    if kind == "none":
        return [None] * n_rows
    if kind == "datetime":
        return pd.date_range("2024-01-01", periods=n_rows, freq="h")
    if kind == "zoned":
        return pd.date_range("2024-01-01", periods=n_rows, freq="D", tz="Europe/Paris")
    if kind == "timedelta":
        return pd.to_timedelta(rng.integers(0, 100, n_rows), unit="s")
    if kind == "decimal":
        return [decimal.Decimal(int(v)) / 4 for v in rng.integers(0, 100, n_rows)]
    if kind == "bytes":
        return [bytes([int(v)]) for v in rng.integers(0, 256, n_rows)]
    if kind == "list":
        return [[int(v)] for v in rng.integers(0, 9, n_rows)]
    if kind == "dict":
        return [{"k": int(v)} for v in rng.integers(0, 9, n_rows)]
    if kind == "date":
        return [dt.date(2024, 1, 1) + dt.timedelta(days=int(v)) for v in range(n_rows)]
    return pd.array([None if v < 2 else int(v) for v in rng.integers(0, 9, n_rows)], "Int64")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kinds=_frames, n_rows=st.integers(1, 25), data=st.data())
def test_any_pandas_frame_written_to_parquet_ingests_or_is_refused_cleanly(
    workspace: Workspace,
    tmp_path_factory: pytest.TempPathFactory,
    kinds: list[str],
    n_rows: int,
    data: st.DataObject,
) -> None:
    frame = pd.DataFrame(
        {f"{kind}_{i}": _column(kind, n_rows, data.draw) for i, kind in enumerate(kinds)}
    )
    path = tmp_path_factory.mktemp("frames") / "frame.parquet"
    frame.to_parquet(path, index=False)
    before = len(workspace.datasets.list_versions())
    try:
        version, _ = workspace.datasets.ingest(path, "fuzz", IngestOptions(split=None))
    except ModelyardError as exc:
        assert isinstance(exc, InvalidInputError)
        assert any(f"'{name}'" in str(exc) for name in frame.columns), str(exc)
        assert {"list", "dict"} & set(kinds) or "bytes" in kinds, str(exc)
        assert len(workspace.datasets.list_versions()) == before
        return
    assert version.n_rows == n_rows
    assert [c.name for c in version.columns] == list(frame.columns)
    assert not {"list", "dict"} & set(kinds)


# -- streaming: types that change after the first block ------------------------------


def test_a_type_that_changes_after_the_first_block_widens_the_column(
    workspace: Workspace, tmp_path: Path
) -> None:
    n_rows = 400_000  # well past the first block Arrow infers types from
    path = tmp_path / "late.csv"
    with path.open("w") as handle:
        handle.write("count,later,label\n")
        for i in range(n_rows - 2):
            handle.write(f"{i},,x{i % 7}\n")
        handle.write("1.5,7,x1\n")
        handle.write("2,seven,x2\n")
    version, _ = workspace.datasets.ingest(path, "late", IngestOptions(split=None))
    assert version.n_rows == n_rows
    assert version.column("count").physical_type == "double"
    assert version.column("later").physical_type == "string"
    tail = workspace.datasets.read(version).slice(n_rows - 2).to_pylist()
    assert tail == [
        {"count": 1.5, "later": "7", "label": "x1"},
        {"count": 2.0, "later": "seven", "label": "x2"},
    ]


def _past_the_first_chunk(path: Path, last_rows: list[bytes]) -> int:
    """A CSV of more than 16 MiB (the fast read's first chunk) ending in ``last_rows``."""
    padding = "p" * 100
    n_rows = (17 << 20) // 120
    with path.open("wb") as handle:
        handle.write(b"count,later,pad\n")
        handle.write("".join(f"{i},,{padding}\n" for i in range(n_rows)).encode())
        handle.writelines(last_rows)
    return n_rows + len(last_rows)


@pytest.mark.slow
def test_a_type_that_changes_after_the_first_chunk_widens_the_column(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "late-chunk.csv"
    n_rows = _past_the_first_chunk(path, [b"1.5,7,x\n", b"2,seven,y\n"])
    version, _ = workspace.datasets.ingest(path, "late", IngestOptions(split=None))
    assert version.n_rows == n_rows
    assert version.column("count").physical_type == "double"
    assert version.column("later").physical_type == "string"
    tail = workspace.datasets.read(version).slice(n_rows - 2).to_pylist()
    assert tail == [
        {"count": 1.5, "later": "7", "pad": "x"},
        {"count": 2.0, "later": "seven", "pad": "y"},
    ]


@pytest.mark.slow
def test_a_late_problem_is_named_by_its_line_after_the_first_chunk(
    cli: Cli, tmp_path: Path
) -> None:
    latin = tmp_path / "late-latin.csv"
    n_rows = _past_the_first_chunk(latin, ["3,4,centré\n".encode("latin-1")])
    refused = cli("data", "ingest", str(latin), "--name", "late", check=False)
    assert refused.exit_code == 2
    line = _one_error_line(refused)
    assert "not UTF-8" in line and f"line {n_rows + 1} " in line and "--encoding" in line
    quoted = tmp_path / "late-quote.csv"
    n_rows = _past_the_first_chunk(quoted, [b'3,4,"open\n', b"5,6,x\n"])
    refused = cli("data", "ingest", str(quoted), "--name", "late", check=False)
    assert refused.exit_code == 2
    line = _one_error_line(refused)
    assert f"line {n_rows:,}" in line and "quote" in line
    _nothing_stored(cli)


def test_a_declared_type_that_does_not_fit_names_column_row_and_value(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "declared.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i}\n" for i in range(30)) + "x,oops\n")
    with pytest.raises(InvalidInputError, match=r"column 'b' .* row 31 holds 'oops'"):
        workspace.datasets.ingest(path, "d", IngestOptions(types={"b": "integer"}))
    assert workspace.datasets.list_versions() == []


# -- dates -------------------------------------------------------------------------


def test_dates_in_a_given_format_and_guessed_for_a_declared_datetime(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "dates.csv"
    rows = ["day_first,spelled,y"] + [
        f"{d:%d/%m/%Y},{d:%d %b %Y},{i % 2}"
        for i, d in enumerate(dt.date(2022, 7, 1) + dt.timedelta(days=k) for k in range(40))
    ]
    path.write_text("\n".join(rows) + "\n")
    shown = json.loads(
        cli(
            "data",
            "ingest",
            str(path),
            "--name",
            "dates",
            "--date-format",
            "day_first=%d/%m/%Y",
            "--type",
            "spelled=datetime",
            "--time-column",
            "day_first",
            "--json",
        ).stdout
    )
    types = {c["name"]: c["logical_type"] for c in shown["columns"]}
    assert types["day_first"] == types["spelled"] == "datetime"
    rows_back = workspace.datasets.read("dates").to_pylist()
    assert rows_back[9]["day_first"] == dt.datetime(2022, 7, 10)
    assert rows_back[9]["spelled"] == dt.datetime(2022, 7, 10)
    assert shown["split_summary"]["method"] == "time"


def test_an_unparsable_date_is_named(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad_dates.csv"
    path.write_text("d,y\n07/10/2022,1\n07/11/2022,0\n31/12/2022,1\n")
    result = cli("data", "ingest", str(path), "--name", "d", "--type", "d=datetime", check=False)
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert "column 'd' row 3: '31/12/2022'" in line and "%m/%d/%Y" in line
    assert "--date-format" in line
    _nothing_stored(cli)
    fixed = cli(
        "data", "ingest", str(path), "--name", "d", "--date-format", "d=%m/%d/%Y", check=False
    )
    assert fixed.exit_code == 2 and "'31/12/2022'" in fixed.stderr
    ok = cli("data", "ingest", str(path), "--name", "d", "--date-format", "d=%d/%m/%Y")
    assert "Created dataset d:1" in ok.stdout


def test_date_format_of_an_unknown_column_is_refused_before_reading(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a\n1\n")
    with pytest.raises(InvalidInputError, match="date format of column 'zz'"):
        workspace.datasets.ingest(path, "d", IngestOptions(date_formats={"zz": "%Y"}))


def test_sdk_date_formats_make_a_datetime_column(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("when,v\n10 Jul 2022,1\n11 Jul 2022,2\n")
    version, _ = workspace.datasets.ingest(
        path, "d", IngestOptions(split=None, date_formats={"when": "%d %b %Y"})
    )
    assert version.column("when").logical_type is LogicalType.DATETIME
    assert workspace.datasets.read(version).column("when").to_pylist()[1] == dt.datetime(
        2022, 7, 11
    )


# -- staging under the workspace, swept after a kill -9 ------------------------------


def test_staging_of_a_killed_ingest_is_swept_by_the_next(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write("a,b,c\n")
        for i in range(1_500_000):
            handle.write(f"{i},{i * 0.5},label{i % 11}\n")
    staging = cli.workspace / ".modelyard" / "staging"
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelyard",
            "-w",
            str(cli.workspace),
            "data",
            "ingest",
            str(path),
            "--name",
            "big",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not (staging.is_dir() and any(staging.iterdir())):
        assert process.poll() is None, "the ingest ended before it was killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    left = list(staging.iterdir())
    assert len(left) == 1 and left[0].name.startswith("ingest-")
    assert list((tmp_path / "tmp").iterdir()) == []
    small = tmp_path / "small.csv"
    small.write_text("a,b\n1,2\n3,4\n")
    cli("data", "ingest", str(small), "--name", "small", "--no-split")
    assert list(staging.iterdir()) == []


def test_the_sweep_spares_live_ingests_and_other_hosts(tmp_path: Path) -> None:
    from modelyard.data._staging import Staging

    staging = Staging(tmp_path / "staging")
    with staging.folder() as live:
        dead_process = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        dead_pid = int(dead_process.stdout)
        host = live.name.split("-")[1]
        dead = tmp_path / "staging" / f"ingest-{host}-{dead_pid}-abc"
        other_host = tmp_path / "staging" / f"ingest-elsewhere-{dead_pid}-abc"
        dead.mkdir()
        other_host.mkdir()
        assert staging.sweep() == [dead]
        assert live.is_dir() and other_host.is_dir()
    assert not live.exists()


_floats = st.none() | st.floats(width=32).map(lambda v: v + 0.0)  # -0.0 is 0.0 here
_integers = st.none() | st.integers(-3, 3) | st.integers(-(2**62), 2**62)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), floating=st.booleans(), chunks=st.integers(1, 3))
def test_distinct_counts_by_sorting_agree_with_arrow(
    data: st.DataObject, floating: bool, chunks: int
) -> None:
    import pyarrow.compute as pc

    from modelyard.data._infer import _count_distinct

    kind = pa.float64() if floating else pa.int64()
    cells = data.draw(st.lists(_floats if floating else _integers, max_size=40))
    size = max(1, len(cells) // chunks)
    parts = [pa.array(cells[i : i + size], kind) for i in range(0, len(cells), size)]
    column = pa.chunked_array(parts, kind)
    expected = int(pc.count_distinct(column, mode="only_valid").as_py() or 0)
    assert _count_distinct(column) == expected
