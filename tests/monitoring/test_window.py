"""The DuckDB reader of captured traffic gives what the gateway's parser gives.

Captured windows of every shape (JSON rows, one object, envelopes, CSV, bodies the
parser refuses) and every kind of value (numbers, numeric text, junk, booleans,
NaN, nested values, keys missing or extra) are written by the gateway's capture
writer, then read twice: vectorised by DuckDB and request by request by the
gateway's parser. Hypothesis looks for a window where the two differ.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from modelyard.monitoring._check import Baseline, check_window
from modelyard.monitoring._drift import Numbers
from modelyard.monitoring._window import WindowRows, read_window
from modelyard.serving._capture import CaptureRecord, CaptureWriter

NAMES = ["x", "c", "d", 'we"ird k']
KINDS = {"x": "numeric", "c": "categorical", "d": "datetime", 'we"ird k': "boolean"}
WINDOW = "2026-03-04T05"
MOMENT = datetime(2026, 3, 4, 5, tzinfo=UTC).timestamp()

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
_value = st.one_of(
    st.none(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=True, allow_infinity=False),
    st.booleans(),
    _text,
    st.sampled_from(["12", " 3.5 ", "", "nan", "null", "true", "2026-01-02", "2026-01-02T03:04Z"]),
    st.lists(st.integers(0, 3), max_size=2),
)
_typical = {
    "x": st.one_of(st.none(), st.floats(-1e6, 1e6), st.integers(-1000, 1000)),
    "c": st.one_of(st.none(), st.sampled_from(["a", "b", "nullable", "é\"'", ""])),
    "d": st.one_of(st.none(), st.sampled_from(["2026-01-02", "2025-12-31T23:59:00"])),
    'we"ird k': st.one_of(st.none(), st.booleans()),
}


@st.composite
def _row(draw: st.DrawFn) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in NAMES:
        if draw(st.integers(0, 9)) == 0:
            continue  # a key missing
        odd = draw(st.integers(0, 5)) == 0
        row[name] = draw(_value if odd else _typical[name])
    if draw(st.integers(0, 6)) == 0:
        row["extra"] = draw(_value)
    return row


@st.composite
def _record(draw: st.DrawFn, number: int) -> CaptureRecord:
    rows = draw(st.lists(_row(), min_size=0, max_size=3))
    shape = draw(st.sampled_from(["array", "array", "array", "object", "envelope", "csv", "junk"]))
    content_type = "application/json"
    if shape == "object" and rows:
        body = json.dumps(rows[0])
    elif shape == "envelope":
        body = json.dumps({"instances": rows})
    elif shape == "csv":
        content_type = "text/csv"
        body = "\n".join([",".join(NAMES)] + [",".join("1" for _ in NAMES) for _ in rows])
    elif shape == "junk":
        body = draw(st.sampled_from(["", "{oops", "[]", "[[1, 2, 3, 4]]", "7"]))
    else:
        body = json.dumps(rows)
    count = max(len(rows), 1)
    answer = draw(
        st.sampled_from(
            [
                {"predictions": [1] * count, "probabilities": [[0.3, 0.7]] * count,
                 "classes": [0, 1]},
                {"predictions": [0.25] * count},
                {"predictions": ["yes"] * count, "probabilities": [[]] * count},
                {"predictions": [0] * count, "probabilities": [[0.9, 0.1]] * count,
                 "classes": ["n", "m"]},
                {"predictions": [True] * count, "probabilities": [[1, True]] * count},
                "[]",
                "{oops",
            ]
        )
    )  # fmt: skip
    response = answer if isinstance(answer, str) else json.dumps(answer)
    status = draw(st.sampled_from([200, 200, 200, 200, 422]))
    shadow = draw(st.integers(0, 9)) == 0
    inference = draw(st.sampled_from([None, f"inf-{number}", "same-id"]))
    return CaptureRecord(
        MOMENT + number, "ep", draw(st.sampled_from(["a", "b"])), "m:1", shadow,
        f"req-{number}", inference, 1.0, status, content_type, body, response,
    )  # fmt: skip


@st.composite
def _window(draw: st.DrawFn) -> list[CaptureRecord]:
    size = draw(st.integers(0, 25))
    return [draw(_record(number)) for number in range(size)]


def _rows(rows: WindowRows) -> list[tuple[Any, ...]]:
    """Every row as a tuple of its id, variant, score and values, sorted."""
    out = []
    for i in range(rows.rows):
        values = []
        for name in NAMES:
            column = rows.columns[name]
            if isinstance(column, Numbers):
                value = column.values[i]
                values.append(None if math.isnan(value) else float(value))
            else:
                values.append(column[i].as_py())
        score = rows.scores[i]
        values.append(None if math.isnan(score) else float(score))
        out.append((rows.ids[i].as_py(), rows.variants[i].as_py(), *map(repr, values)))
    return sorted(out)


def _write(root: Path, records: list[CaptureRecord]) -> None:
    writer = CaptureWriter(root)
    for record in records:
        assert writer.offer(record)
    writer.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=_window(), positive=st.sampled_from([None, "1", "m"]))
def test_duckdb_reads_a_window_as_the_gateway_parser_does(
    tmp_path_factory: Any, records: list[CaptureRecord], positive: str | None
) -> None:
    root = tmp_path_factory.mktemp("capture")
    note(repr(records))
    _write(root, records)
    fast = read_window(root, "ep", WINDOW, NAMES, positive, KINDS)
    slow = read_window(root, "ep", WINDOW, NAMES, positive, KINDS, vectorised=False)
    assert (fast.requests, fast.failed_requests) == (slow.requests, slow.failed_requests)
    assert fast.missing_columns == slow.missing_columns
    # extra keys are learnt from the JSON rows, those of requests the parser refuses too
    assert slow.unexpected_columns <= fast.unexpected_columns
    assert _rows(fast) == _rows(slow)
    for name in ("x", 'we"ird k'):
        assert fast.columns[name].wrong == slow.columns[name].wrong


def test_plain_rows_are_read_into_typed_columns(tmp_path: Path) -> None:
    # the common case: one row per request, every value of its column's type
    records = [
        CaptureRecord(
            MOMENT + i, "ep", "a", "m:1", False, f"req-{i}", None, 1.0, 200,
            "application/json",
            json.dumps([{"x": i, "c": "a", "d": "2026-01-02", 'we"ird k': i % 2 == 0}]),
            json.dumps({"predictions": [1], "probabilities": [[0.2, 0.8]], "classes": [0, 1]}),
        )
        for i in range(500)
    ]  # fmt: skip
    _write(tmp_path, records)
    rows = read_window(tmp_path, "ep", WINDOW, NAMES, "1", KINDS)
    assert rows.rows == 500 and rows.failed_requests == 0
    assert np.array_equal(rows.columns["x"].values, np.arange(500, dtype=np.float64))
    assert rows.columns['we"ird k'].values[:2].tolist() == [1.0, 0.0]
    assert set(rows.scores.tolist()) == {0.8}
    assert rows.ids[0].as_py() == "req-0"


def test_a_window_names_the_model_inputs_the_baseline_has_no_statistics_of() -> None:
    """Their drift is never checked, so the result says which they are."""
    baseline = Baseline(
        names=["tenure", "region"],
        statistics={"columns": {}},
        task="regression",
        positive=None,
        threshold=0.5,
    )
    result, violations = check_window(
        WindowRows("2026-12-07T21", columns={}), baseline, [], {"failed_share": 0.05}
    )
    assert result["model_columns_without_baseline"] == ["region", "tenure"]
    assert violations == []
