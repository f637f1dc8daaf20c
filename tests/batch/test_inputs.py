"""Planning inputs: byte-range partitions of CSV / JSON lines read every row exactly once."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.batch._inputs import plan_partitions, resolve_inputs
from modelyard.batch._partition import _read_csv, _read_jsonl
from modelyard.errors import InvalidInputError


def _rows_read(path: Path, partition_bytes: int) -> tuple[list[int], int]:
    planned, _ = plan_partitions(resolve_inputs(str(path)), 100, partition_bytes)
    values: list[int] = []
    for part in planned:
        spec = part.spec
        batches = _read_csv(spec, {"a"}) if spec["format"] == "csv" else _read_jsonl(spec, {"a"})
        for batch in batches:
            values.extend(int(v) for v in batch.column("a").to_pylist())
    return values, len(planned)


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.integers(0, 10**6), max_size=12),
    blank_after=st.lists(st.booleans(), min_size=12, max_size=12),
    fmt=st.sampled_from(["csv", "jsonl"]),
    trailing_newline=st.booleans(),
    crlf=st.booleans(),
    partition_bytes=st.integers(1, 40),
    blank_before=st.integers(0, 2),
)
def test_byte_ranges_read_every_row_once(
    values: list[int],
    blank_after: list[bool],
    fmt: str,
    trailing_newline: bool,
    crlf: bool,
    partition_bytes: int,
    blank_before: int,
) -> None:
    """Cuts at, before and after newlines; header-only files; empty lines (before the
    header too: the header was read as a row); no final newline."""
    if fmt == "jsonl" and not values:
        return  # a JSON-lines file without records has no columns: refused at planning
    lines = [""] * blank_before + (["a,b"] if fmt == "csv" else [])
    for value, blank in zip(values, blank_after, strict=False):
        lines.append(f"{value},x" if fmt == "csv" else json.dumps({"a": value, "b": "x"}))
        if blank:
            lines.append("")
    text = "\n".join(lines) + ("\n" if trailing_newline else "")
    if crlf:
        text = text.replace("\n", "\r\n")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"in.{fmt}"
        path.write_text(text, newline="")
        read, _ = _rows_read(path, partition_bytes)
    assert read == values


def test_a_large_file_is_cut_into_many_partitions(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("a,b\n" + "".join(f"{n},x\n" for n in range(100)))
    read, partitions = _rows_read(path, 50)
    assert read == list(range(100))
    assert partitions >= 8


def test_a_folder_skips_hidden_and_underscore_paths_at_any_depth(tmp_path: Path) -> None:
    """A batch output's ``_errors/`` and a ``.ipynb_checkpoints/`` copy are not inputs."""
    for name in ("part-1.csv", "sub/b.csv", "_errors/part-1.csv", ".checkpoints/a.csv", ".tmp.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("a,b\n1,x\n")
    found = [f.url.removeprefix(f"file://{tmp_path}/") for f in resolve_inputs(str(tmp_path))]
    assert found == ["part-1.csv", "sub/b.csv"]


def test_a_file_with_two_columns_of_one_name_is_refused(tmp_path: Path) -> None:
    """It failed the job in a worker with an internal KeyError."""
    path = tmp_path / "dup.csv"
    path.write_text("a,b,a\n1,2,3\n")
    with pytest.raises(InvalidInputError, match=r"dup.csv has more than one column named a$"):
        plan_partitions(resolve_inputs(str(path)), 100, 1 << 20)


def test_a_file_named_twice_is_one_input(tmp_path: Path) -> None:
    """Its rows were scored twice."""
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("a,b\n1,x\n")
    named = [str(tmp_path / "b.csv"), str(tmp_path / "*.csv"), f"file://{tmp_path}/b.csv"]
    found = [f.url.rsplit("/", 1)[1] for f in resolve_inputs(named)]
    assert found == ["b.csv", "a.csv"]


def test_a_truncated_gzip_file_is_a_clear_error(tmp_path: Path) -> None:
    """Its EOFError came out of the CLI as a bare 'Aborted!' (Click's reading of it)."""
    import gzip

    whole = gzip.compress(b"a,b\n" + b"".join(b"%d,x\n" % n for n in range(5000)))
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InvalidInputError, match=r"cut\.csv\.gz as csv: Compressed file ended"):
        plan_partitions(resolve_inputs(str(path)), 100, 1 << 20)
