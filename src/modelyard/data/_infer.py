"""Schema inference: each column's logical type, statistics and default role, from data.

Inference runs on Arrow arrays with ``pyarrow.compute``, so it never copies the
table into pandas. (The schema's types and the user's overrides are in
:mod:`modelyard.data._schema`, which imports neither Arrow nor NumPy.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelyard.data._schema import ColumnSchema, LogicalType, Role
from modelyard.data._types import numpy_values

__all__ = ["infer_columns", "infer_schema"]

_BOOLEAN_WORDS = {"true", "false", "yes", "no", "y", "n", "t", "f"}
_ID_NAME = re.compile(r"(^id$|_id$|^id_|uuid|guid)", re.IGNORECASE)
_MAX_CATEGORICAL_DISTINCT = 200
_EXAMPLES = 3


def infer_schema(table: pa.Table) -> list[ColumnSchema]:
    """Infer every column's logical type, statistics and default role."""
    return infer_columns(table.column_names, table.column, table.num_rows)


def infer_columns(
    names: list[str],
    read_column: Callable[[str], pa.ChunkedArray],
    n_rows: int,
    *,
    max_workers: int | None = None,
) -> list[ColumnSchema]:
    """Infer the schema of columns that ``read_column`` hands over one at a time.

    Columns are inferred on a thread pool (Arrow's kernels release the GIL); at
    most ``max_workers`` columns are held at once, which bounds memory when each
    is read from a file.
    """
    from concurrent.futures import ThreadPoolExecutor

    if max_workers == 1:
        return [_infer_column(name, read_column(name), n_rows) for name in names]
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(lambda name: _infer_column(name, read_column(name), n_rows), names))


def _infer_column(name: str, column: pa.ChunkedArray, n_rows: int) -> ColumnSchema:
    missing = column.null_count
    if pa.types.is_floating(column.type):
        missing += int(pc.sum(pc.is_nan(column)).as_py() or 0)
    present = n_rows - missing
    distinct = _count_distinct(column)
    logical = _logical_type(name, column, present, distinct)
    role = Role.IDENTIFIER if logical is LogicalType.IDENTIFIER else Role.FEATURE
    if present == 0 and n_rows > 0:
        # A column without a single value tells a model nothing: kept, but ignored
        # unless the user gives it a role.
        role = Role.IGNORE
    return ColumnSchema(
        name=name,
        logical_type=logical,
        physical_type=str(column.type),
        role=role,
        missing_share=round(missing / n_rows, 6) if n_rows else 0.0,
        distinct_count=distinct,
        examples=_examples(column),
    )


def _count_distinct(column: pa.ChunkedArray) -> int:
    """Distinct present values (NaN counts as one value, as Arrow counts it).

    Numbers, dates and times are sorted in NumPy: a sorted copy is two bytes in
    eight of Arrow's hash table for a column of unique values (115 MB for a
    million floats), which made the schema the peak of a large ingest.
    """
    kind = column.type
    temporal = pa.types.is_timestamp(kind) or pa.types.is_date(kind) or pa.types.is_duration(kind)
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or temporal):
        return int(pc.count_distinct(column, mode="only_valid").as_py() or 0)
    present = column.drop_null() if column.null_count else column
    # Dates and times as the integers they are stored as; one copy, sorted in place.
    chunks = [numpy_values(chunk) for chunk in present.chunks]
    values = np.concatenate(chunks) if chunks else np.empty(0)
    values.sort()
    has_nan = 0
    if pa.types.is_floating(kind):
        # NaN sorts last; it is one distinct value however often it occurs.
        n_nan = int(np.isnan(values).sum())
        if n_nan:
            values, has_nan = values[: values.size - n_nan], 1
    if values.size == 0:
        return has_nan
    return int(np.count_nonzero(values[1:] != values[:-1])) + 1 + has_nan


def _logical_type(name: str, column: pa.ChunkedArray, present: int, distinct: int) -> LogicalType:
    kind = column.type
    unique = present > 0 and distinct == present
    if pa.types.is_boolean(kind):
        return LogicalType.BOOLEAN
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return LogicalType.DATETIME
    if pa.types.is_integer(kind):
        if unique and present >= 20 and _ID_NAME.search(name):
            return LogicalType.IDENTIFIER
        return LogicalType.INTEGER
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return LogicalType.NUMERIC
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
        return _string_type(name, column, present, distinct, unique)
    return LogicalType.TEXT


def _string_type(
    name: str, column: pa.ChunkedArray, present: int, distinct: int, unique: bool
) -> LogicalType:
    if pa.types.is_dictionary(column.type):
        column = column.cast(pa.string())
    if 0 < distinct <= 2:
        words = {str(v).strip().lower() for v in pc.unique(column).to_pylist() if v is not None}
        if words and words <= _BOOLEAN_WORDS:
            return LogicalType.BOOLEAN
    has_space: bool | None = None  # looked for only when it decides (a scan of every value)
    if unique and present >= 20:
        has_space = bool(pc.any(pc.match_substring(column, " ")).as_py())
        if not has_space or _ID_NAME.search(name):
            return LogicalType.IDENTIFIER
    if distinct <= max(
        _MAX_CATEGORICAL_DISTINCT // 10, min(_MAX_CATEGORICAL_DISTINCT, present // 20)
    ):
        return LogicalType.CATEGORICAL
    if has_space is None:
        has_space = bool(pc.any(pc.match_substring(column, " ")).as_py())
    mean_length = pc.mean(pc.utf8_length(column)).as_py() or 0.0
    if has_space and mean_length > 20:
        return LogicalType.TEXT
    if _ID_NAME.search(name) and distinct > 0.9 * present:
        return LogicalType.IDENTIFIER
    return (
        LogicalType.CATEGORICAL if distinct <= _MAX_CATEGORICAL_DISTINCT * 5 else LogicalType.TEXT
    )


def _examples(column: pa.ChunkedArray) -> list[Any]:
    values = pc.unique(column.slice(0, 10_000).drop_null()).slice(0, _EXAMPLES).to_pylist()
    return [v if isinstance(v, (int, float, str, bool)) else str(v) for v in values]
