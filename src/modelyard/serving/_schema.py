"""A model's input signature, and request values checked against it.

The manifest's ``signature.inputs`` says, per raw column, how it is read (numeric,
boolean, categorical, datetime), whether training saw it missing, and the levels a
categorical had. A request is checked here before the model sees it, so a bad
value is a 422 naming the column and row, never an error deep inside the model.
The rules are the features package's request/row checker
(:func:`~modelyard.features.check_value`, made once per column when the model
loads), the same batch transform applies to every row of a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from modelyard.errors import SchemaMismatchError
from modelyard.features import InputField
from modelyard.features._check import value_checker
from modelyard.serving._parse import Table

__all__ = ["InputField", "Signature"]


class Signature:
    """The input columns of one model version."""

    def __init__(self, fields: list[InputField]) -> None:
        self.fields = fields
        self.names = [f.name for f in fields]
        self._checks = [(field, value_checker(field)) for field in fields]

    @classmethod
    def from_manifest(cls, manifest: Any) -> Signature:
        """The signature recorded in a model package's manifest (its JSON, or a
        parsed manifest with ``inputs``)."""
        if isinstance(manifest, Mapping):
            inputs: Iterable[Mapping[str, Any]] = manifest.get("signature", {}).get("inputs", [])
        else:
            inputs = manifest.inputs
        return cls([InputField.from_dict(dict(entry)) for entry in inputs])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"inputs": [f.to_dict() for f in self.fields]}

    def check(
        self, table: Table, *, reject_unexpected: bool, hide: bool = False
    ) -> dict[str, list[Any]]:
        """Return the table's columns with values converted to what the model reads.

        Raises:
            SchemaMismatchError: an unexpected column (when rejected), a value its
                column's kind cannot read, a number float32 cannot hold, a missing
                value where training saw none; the first one, naming its column and
                row.
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
        for field, check in self._checks:
            values = columns[field.name]
            if len(values) == 1:  # a request's one row
                converted, reason = check(values[0])
                if reason is not None:
                    raise _refused(field, 0, values[0], reason)
                out[field.name] = [converted]
                continue
            checked = []
            for row, value in enumerate(values):
                converted, reason = check(value)
                if reason is not None:
                    raise _refused(field, row, value, reason)
                checked.append(converted)
            out[field.name] = checked
        return out


def _refused(field: InputField, row: int, value: Any, reason: str) -> SchemaMismatchError:
    return SchemaMismatchError(
        f"{reason}{f' (row {row})' if row else ''}: got {value!r:.50}",
        details={"column": field.name, "row": row, "value": repr(value)[:100]},
    )
