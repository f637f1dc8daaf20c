"""Column schema: logical type, role and statistics, inferred and overridable.

Inference runs on Arrow arrays with ``pyarrow.compute``, so it never copies the
table into pandas.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelyard.data._types import numpy_values
from modelyard.errors import InvalidInputError

__all__ = [
    "ColumnSchema",
    "LogicalType",
    "Role",
    "apply_overrides",
    "check_overrides",
    "infer_columns",
    "infer_schema",
    "override_schema",
]


class LogicalType(StrEnum):
    """What a column means, which decides how it is prepared for a model."""

    NUMERIC = "numeric"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CATEGORICAL = "categorical"
    DATETIME = "datetime"
    TEXT = "text"
    IDENTIFIER = "identifier"


class Role(StrEnum):
    """What a column is for."""

    FEATURE = "feature"
    TARGET = "target"
    IDENTIFIER = "identifier"
    IGNORE = "ignore"


@dataclass(frozen=True)
class ColumnSchema:
    """One column of a dataset version."""

    name: str
    logical_type: LogicalType
    physical_type: str
    role: Role
    missing_share: float
    distinct_count: int
    examples: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in the metadata database."""
        data = asdict(self)
        data["logical_type"] = self.logical_type.value
        data["role"] = self.role.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSchema:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=data["name"],
            logical_type=LogicalType(data["logical_type"]),
            physical_type=data["physical_type"],
            role=Role(data["role"]),
            missing_share=float(data["missing_share"]),
            distinct_count=int(data["distinct_count"]),
            examples=list(data.get("examples", [])),
        )


_E = TypeVar("_E", bound=StrEnum)

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


def apply_overrides(
    table: pa.Table,
    schema: list[ColumnSchema],
    *,
    types: dict[str, str] | None = None,
    roles: dict[str, str] | None = None,
    target: str | None = None,
) -> tuple[pa.Table, list[ColumnSchema]]:
    """Apply the user's type and role choices to an in-memory table and its schema.

    A column declared ``datetime``, ``numeric`` or ``integer`` is cast (by the
    same :class:`~modelyard.data._casts.BatchCaster` an ingest runs on each batch)
    so the data agrees with its declared type.

    Raises:
        InvalidInputError: an unknown column, type or role, or a value that does
            not convert to the declared type (the message names the column).
    """
    from modelyard.data._casts import BatchCaster

    check_overrides(types, roles)
    caster = BatchCaster(types=dict(types or {}))
    caster.check_columns(table.column_names)
    batches, offset = [], 0
    for batch in table.to_batches():
        batches.append(caster(batch, offset))
        offset += batch.num_rows
    if batches:
        table = pa.Table.from_batches(batches)
    physical = {name: str(table.column(name).type) for name in table.column_names}
    schema = [replace(c, physical_type=physical.get(c.name, c.physical_type)) for c in schema]
    return table, override_schema(schema, types=types, roles=roles, target=target)


def check_overrides(types: dict[str, str] | None, roles: dict[str, str] | None) -> None:
    """Refuse an unknown type or role name before any data is read.

    Raises:
        InvalidInputError: naming the column and the allowed names.
    """
    for column_name, type_name in (types or {}).items():
        _parse_enum(LogicalType, type_name, "type", column_name)
    for column_name, role_name in (roles or {}).items():
        _parse_enum(Role, role_name, "role", column_name)


def override_schema(
    schema: list[ColumnSchema],
    *,
    types: dict[str, str] | None = None,
    roles: dict[str, str] | None = None,
    target: str | None = None,
) -> list[ColumnSchema]:
    """The inferred schema with the user's logical types and roles put over it.

    Raises:
        InvalidInputError: an unknown column, type or role, or two targets.
    """
    by_name = {column.name: column for column in schema}
    requested_roles = dict(roles or {})
    if target is not None:
        requested_roles[target] = Role.TARGET.value
    for label, mapping in (("type", types or {}), ("role", requested_roles)):
        for column_name in mapping:
            if column_name not in by_name:
                raise InvalidInputError(
                    f"cannot set the {label} of column {column_name!r}: no such column "
                    f"(columns: {', '.join(by_name)})",
                    details={"column": column_name},
                )
    for column_name, type_name in (types or {}).items():
        logical = _parse_enum(LogicalType, type_name, "type", column_name)
        column = by_name[column_name]
        role = Role.IDENTIFIER if logical is LogicalType.IDENTIFIER else column.role
        if column.role is Role.IDENTIFIER and logical is not LogicalType.IDENTIFIER:
            role = Role.FEATURE
        by_name[column_name] = replace(column, logical_type=logical, role=role)
    targets = [name for name, role in requested_roles.items() if role == Role.TARGET.value]
    if len(targets) > 1:
        raise InvalidInputError(
            f"only one target column is allowed, got {', '.join(targets)}",
            details={"columns": targets},
        )
    for column_name, role_name in requested_roles.items():
        role = _parse_enum(Role, role_name, "role", column_name)
        by_name[column_name] = replace(by_name[column_name], role=role)
    return [by_name[column.name] for column in schema]


def _parse_enum(enum: type[_E], value: str, label: str, column: str) -> _E:
    try:
        return enum(value.lower())
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidInputError(
            f"unknown {label} {value!r} for column {column!r} (allowed: {allowed})",
            details={"column": column, label: value},
        ) from None
