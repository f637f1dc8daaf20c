"""A model's input signature, and request values checked against it.

The manifest's ``signature.inputs`` says, per raw column, how it is read (numeric,
boolean, categorical, datetime), whether training saw it missing, and the levels a
categorical had. A request is checked here before the model sees it, so a bad
value is a 422 naming the column and row, never an error deep inside the model.
Unseen categories pass: the feature recipe handles them as it was trained to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from modelyard.errors import SchemaMismatchError
from modelyard.features import FALSE_WORDS, TRUE_WORDS
from modelyard.serving._parse import Table

__all__ = ["InputField", "Signature"]

# the feature adapter's words, so a value passes validation exactly when the
# model can read it
_TRUE = TRUE_WORDS
_BOOLEAN_TEXT = TRUE_WORDS | FALSE_WORDS
# Models read float32 features: a larger magnitude overflows to infinity in the cast
# (a RuntimeWarning, or a 500 where warnings are errors) and is refused here instead.
_LARGEST = 3.4028234663852886e38
_OUT_OF_RANGE = "must be a finite number between -3.4e38 and 3.4e38"


@dataclass(frozen=True)
class InputField:
    """One raw input column of a model."""

    name: str
    kind: str
    nullable: bool
    categories: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (shown in validation errors unless the schema is hidden)."""
        data: dict[str, Any] = {"name": self.name, "kind": self.kind, "nullable": self.nullable}
        if self.categories is not None:
            data["categories"] = list(self.categories)
        return data


class Signature:
    """The input columns of one model version."""

    def __init__(self, fields: list[InputField]) -> None:
        self.fields = fields
        self.names = [f.name for f in fields]
        # each field with its converter, chosen once rather than per request
        self._converters = [(f, _CONVERTERS.get(f.kind, _moment)) for f in fields]

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> Signature:
        """The signature recorded in a model package's manifest."""
        inputs = manifest.get("signature", {}).get("inputs", [])
        return cls(
            [
                InputField(
                    name=str(entry["name"]),
                    kind=str(entry.get("kind", "numeric")),
                    nullable=bool(entry.get("nullable", True)),
                    categories=tuple(entry["categories"]) if "categories" in entry else None,
                )
                for entry in inputs
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"inputs": [f.to_dict() for f in self.fields]}

    def check(
        self, table: Table, *, reject_unexpected: bool, hide: bool = False
    ) -> dict[str, list[Any]]:
        """Return the table's columns with values converted to what the model reads.

        Numbers arrive as JSON numbers or numeric text; missing values (``null``,
        NaN, an empty CSV cell) only where training saw them.

        Raises:
            SchemaMismatchError: an unexpected column (when rejected), a value of the
                wrong type, a missing value where none is allowed, an infinite number.
        """
        if reject_unexpected and table.unexpected:
            details: dict[str, Any] = {"unexpected": list(table.unexpected)}
            if not hide:
                details["expected"] = self.names
            raise SchemaMismatchError(
                f"unexpected column(s): {', '.join(table.unexpected)}", details=details
            )
        out: dict[str, list[Any]] = {}
        columns = table.columns
        for field, convert in self._converters:
            values = columns[field.name]
            if len(values) == 1:  # one row, the common request: no comprehension
                out[field.name] = [convert(field, values[0], 0)]
            else:
                out[field.name] = [convert(field, v, i) for i, v in enumerate(values)]
        return out


def _bad(field: InputField, row: int, message: str, value: Any) -> SchemaMismatchError:
    return SchemaMismatchError(
        f"column {field.name!r}{f' row {row}' if row else ''}: {message}",
        details={"column": field.name, "row": row, "value": repr(value)[:100]},
    )


def _missing(field: InputField, row: int, value: Any) -> None:
    if not field.nullable:
        raise _bad(field, row, "missing values (null or NaN) are not allowed", value)


def _number(field: InputField, value: Any, row: int) -> float | None:
    kind = type(value)
    if kind is float:
        if math.isnan(value):
            _missing(field, row, value)
            return None
        if not -_LARGEST <= value <= _LARGEST:
            raise _bad(field, row, _OUT_OF_RANGE, value)
        return float(value)
    if kind is int:
        if not -_LARGEST <= value <= _LARGEST:
            raise _bad(field, row, _OUT_OF_RANGE, value)
        return float(value)
    if value is None:
        _missing(field, row, value)
        return None
    if kind is str:
        text = value.strip()
        if text.lower() in ("", "nan", "na", "null", "none"):
            _missing(field, row, value)
            return None
        try:
            number = float(text)
        except ValueError:
            raise _bad(field, row, f"must be a number, got {value[:50]!r}", value) from None
        if not -_LARGEST <= number <= _LARGEST:
            raise _bad(field, row, _OUT_OF_RANGE, value)
        return number
    raise _bad(field, row, f"must be a number, got {kind.__name__}", value)


def _boolean(field: InputField, value: Any, row: int) -> bool | None:
    if value is None or (type(value) is float and math.isnan(value)):
        _missing(field, row, value)
        return None
    if isinstance(value, bool):
        return value
    if type(value) in (int, float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_TEXT:
        return value.strip().lower() in _TRUE
    raise _bad(field, row, f"must be true or false, got {value!r:.50}", value)


def _category(field: InputField, value: Any, row: int) -> str | None:
    if value is None or (type(value) is float and math.isnan(value)):
        _missing(field, row, value)
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    if type(value) is float:
        return str(int(value)) if value.is_integer() else str(value)
    raise _bad(field, row, f"must be a category label (text), got {type(value).__name__}", value)


def _moment(field: InputField, value: Any, row: int) -> str | None:
    if value is None or (type(value) is float and math.isnan(value)):
        _missing(field, row, value)
        return None
    if isinstance(value, str) and value.strip():
        return value
    raise _bad(field, row, f"must be a date-time text, got {type(value).__name__}", value)


_CONVERTERS = {"numeric": _number, "boolean": _boolean, "categorical": _category}
