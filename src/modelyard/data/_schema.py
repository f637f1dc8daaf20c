"""Column schema: logical type, role and statistics, and the user's overrides.

Inference from data lives in :mod:`modelyard.data._infer`: this module stays free
of Arrow and NumPy, so what only reads a schema (the registry, run listings, every
command that opens a workspace) does not pay for importing them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from modelyard.errors import InvalidInputError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ColumnSchema",
    "LogicalType",
    "Role",
    "apply_overrides",
    "check_overrides",
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
    import pyarrow as pa

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
