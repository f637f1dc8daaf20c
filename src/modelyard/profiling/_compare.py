"""Two dataset versions (or two datasets) side by side, with a shift per column.

The side-by-side figures come from the two profiles (stored, so a comparison of
profiled versions scans nothing twice); the shift measures come from
:mod:`modelyard.profiling._shift`, the same functions monitoring uses, over a
uniform sample of each side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelyard.profiling._engine import Engine, quote
from modelyard.profiling._profile import Profile
from modelyard.profiling._shift import ShiftMeasures, category_shift, numeric_shift

__all__ = ["Comparison", "compare_profiles"]

SAMPLE_ROWS = 100_000
_MAX_CATEGORIES = 10_000


@dataclass(frozen=True)
class Comparison:
    """What changed between a reference and a current version.

    Attributes:
        reference, current: ``name:version`` of each side.
        rows: the row count of each side.
        columns: per column: ``name``, ``status`` (``both``, ``only_reference``,
            ``only_current``), each side's type, missing share, mean or top value,
            and ``shift`` (a :class:`ShiftMeasures` as a dict, or ``None`` with
            ``not_compared`` saying why).
        sampling: where a sample stood in for every row.
    """

    reference: str
    current: str
    rows: tuple[int, int]
    columns: list[dict[str, Any]]
    sampling: list[dict[str, Any]]

    def shifted(self, level: str = "major") -> list[str]:
        """Columns whose shift is at ``level`` (``major`` or ``moderate``) or worse."""
        wanted = {"major"} if level == "major" else {"major", "moderate"}
        return [c["name"] for c in self.columns if (c.get("shift") or {}).get("level") in wanted]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "reference": self.reference,
            "current": self.current,
            "rows": list(self.rows),
            "columns": self.columns,
            "sampling": self.sampling,
        }


def compare_profiles(
    reference: Profile, current: Profile, reference_path: Path, current_path: Path
) -> Comparison:
    """Compare two profiled versions whose Parquet files are at the given paths."""
    ref_columns = {c["name"]: c for c in reference.columns}
    cur_columns = {c["name"]: c for c in current.columns}
    names = list(ref_columns) + [n for n in cur_columns if n not in ref_columns]
    common = [n for n in ref_columns if n in cur_columns]
    comparable = {n: _kind(ref_columns[n], cur_columns[n]) for n in common}
    wanted = {n: k for n, k in comparable.items() if k in {"numeric", "datetime", "categorical"}}
    sampling: list[dict[str, Any]] = []
    ref_sample = _sample(reference_path, wanted, reference.n_rows, reference.dataset, sampling)
    cur_sample = _sample(current_path, wanted, current.n_rows, current.dataset, sampling)
    rows = []
    for name in names:
        a, b = ref_columns.get(name), cur_columns.get(name)
        row: dict[str, Any] = {
            "name": name,
            "status": "both" if a and b else ("only_reference" if a else "only_current"),
            "reference": _side(a),
            "current": _side(b),
            "shift": None,
        }
        kind = comparable.get(name)
        if name in wanted and kind is not None:
            measures = _measure(kind, ref_sample.column(name), cur_sample.column(name))
            row["shift"] = measures.to_dict()
        elif a and b:
            row["not_compared"] = _why_not(kind)
        rows.append(row)
    return Comparison(
        reference.dataset, current.dataset, (reference.n_rows, current.n_rows), rows, sampling
    )


def _kind(a: dict[str, Any], b: dict[str, Any]) -> str:
    kinds = {a.get("kind"), b.get("kind")}
    if kinds == {"numeric"}:
        return "numeric"
    if kinds == {"datetime"}:
        return "datetime"
    if kinds <= {"string", "boolean"}:
        identifier = "identifier" in {a.get("logical_type"), b.get("logical_type")}
        text = "text" in {a.get("logical_type"), b.get("logical_type")}
        too_many = max(a.get("distinct") or 0, b.get("distinct") or 0) > _MAX_CATEGORIES
        return "identifier" if identifier or too_many else ("text" if text else "categorical")
    return "different types"


def _why_not(kind: str | None) -> str:
    return {
        "identifier": "an identifier: its values are expected to differ",
        "text": "free text",
        "different types": "the two sides have different types",
    }.get(kind or "", "no comparable values")


def _side(column: dict[str, Any] | None) -> dict[str, Any] | None:
    if column is None:
        return None
    top = (column.get("top") or [None])[0]
    return {
        "logical_type": column.get("logical_type"),
        "missing_share": column.get("missing_share"),
        "distinct": column.get("distinct"),
        "mean": column.get("mean"),
        "std": column.get("std"),
        "top": top,
    }


def _sample(
    path: Path, wanted: dict[str, str], n_rows: int, dataset: str, sampling: list[dict[str, Any]]
) -> pa.Table:
    if not wanted:
        return pa.table({})
    exprs = [
        f"epoch({quote(n)}) AS {quote(n)}" if kind == "datetime" else quote(n)
        for n, kind in wanted.items()
    ]
    query = "SELECT " + ", ".join(exprs) + " FROM t"
    if n_rows > SAMPLE_ROWS:
        query += f" USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (0)"
        sampling.append(
            {
                "what": f"shift measures ({dataset})",
                "rows": SAMPLE_ROWS,
                "of": n_rows,
                "method": "uniform reservoir sample, seed 0",
            }
        )
    engine = Engine(path)
    try:
        return engine.arrow(query)
    finally:
        engine.close()


def _measure(kind: str, reference: pa.ChunkedArray, current: pa.ChunkedArray) -> ShiftMeasures:
    if kind in {"numeric", "datetime"}:
        return numeric_shift(_floats(reference), _floats(current))
    return category_shift(_labels(reference), _labels(current))


def _floats(values: pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)


def _labels(values: pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.object_]]:
    text = pc.fill_null(pc.cast(values, pa.string()), "<missing>")
    return np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
