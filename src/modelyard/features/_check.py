"""The request/row check: raw values against a model's input signature.

One checker for the gateway (a request: the first bad value is a 422 naming its
column and row) and for batch transform (a record batch: each bad row goes to the
job's errors with its reason). Both read values with the rules of
:mod:`modelyard.features._read`, and both refuse the same things, in this order
(the first reason of a row wins):

1. a value that cannot be read as its column's kind;
2. a number that float32, which models read, cannot hold (infinity, 1e39);
3. a missing value where training saw none (``nullable: false``).

Unseen categories pass: the feature recipe handles them as it was trained to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from modelyard.features._read import (
    _BAD,
    _EPOCH,
    _NAT,
    FLOAT32_MAX,
    _epoch,
    _flag,
    _label,
    _number,
    read,
)

__all__ = ["ColumnCheck", "InputField", "check_column", "check_value", "value_checker"]

_KIND_WORDS = {
    "numeric": "numeric",
    "boolean": "boolean",
    "categorical": "categorical",
    "datetime": "datetime",
}
_RULES = {"numeric": _number, "boolean": _flag, "categorical": _label, "datetime": _epoch}


@dataclass(frozen=True)
class InputField:
    """One raw input column of a model: its name, how it is read, whether it may be missing."""

    name: str
    kind: str
    nullable: bool = True
    categories: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, entry: dict[str, Any]) -> InputField:
        """A field of a manifest's ``signature.inputs``."""
        return cls(
            name=str(entry["name"]),
            kind=str(entry.get("kind", "numeric")),
            nullable=bool(entry.get("nullable", True)),
            categories=tuple(entry["categories"]) if "categories" in entry else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (shown in validation errors unless the schema is hidden)."""
        data: dict[str, Any] = {"name": self.name, "kind": self.kind, "nullable": self.nullable}
        if self.categories is not None:
            data["categories"] = list(self.categories)
        return data

    def bad_reason(self) -> str:
        """Why a value that cannot be read as this field's kind is refused."""
        return f"column {self.name!r} must be {_KIND_WORDS.get(self.kind, self.kind)}"

    def range_reason(self) -> str:
        """Why a number float32 cannot hold is refused."""
        return f"column {self.name!r} must be a finite number between -3.4e38 and 3.4e38"

    def missing_reason(self) -> str:
        """Why a missing value is refused where training saw none."""
        return f"missing value in column {self.name!r} (not nullable)"


def check_value(field: InputField, value: Any) -> tuple[Any, str | None]:
    """One value as the model reads it (``None`` where missing), or the reason it is
    refused. Numbers come back as ``float``, booleans as ``bool``, categories as
    ``str`` and datetimes as naive UTC ``datetime``: what :func:`read` reads alike.
    (A caller checking many values of one field takes :func:`value_checker` once.)"""
    return value_checker(field)(value)


def value_checker(field: InputField) -> Callable[[Any], tuple[Any, str | None]]:
    """:func:`check_value` for ``field``, with the field's kind, rule and reasons
    looked up once: the gateway makes one per input column when it loads a model,
    and calls it for every value of every request."""
    rule = _RULES.get(field.kind, _epoch)
    bad = field.bad_reason()
    missing = None if field.nullable else field.missing_reason()
    if field.kind == "numeric":
        out_of_range = field.range_reason()

        def numeric(value: Any) -> tuple[Any, str | None]:
            result = rule(value)
            if result is _BAD:
                return None, bad
            if result != result:
                return None, missing
            if not -FLOAT32_MAX <= result <= FLOAT32_MAX:
                return None, out_of_range
            return result, None

        return numeric
    if field.kind == "boolean":

        def boolean(value: Any) -> tuple[Any, str | None]:
            result = rule(value)
            if result is _BAD:
                return None, bad
            if result != result:
                return None, missing
            return result == 1.0, None

        return boolean
    if field.kind == "categorical":

        def categorical(value: Any) -> tuple[Any, str | None]:
            result = rule(value)
            if result is _BAD:
                return None, bad
            if result is None:
                return None, missing
            return result, None

        return categorical

    def moment(value: Any) -> tuple[Any, str | None]:
        result = rule(value)
        if result is _BAD:
            return None, bad
        if result == _NAT:
            return None, missing
        try:  # what numpy's datetime64[s].item() gives, without its per-call cost
            return _EPOCH + timedelta(seconds=result), None
        except OverflowError:  # outside years 1 to 9999: numpy's (whole seconds)
            return np.datetime64(result, "s").item(), None

    return moment


@dataclass(frozen=True)
class ColumnCheck:
    """A column checked: its values as read, and the rows refused with their reason.

    Attributes:
        values: see :class:`~modelyard.features._read.Reading` (refused rows read
            as missing).
        refused: which rows are refused (``None``: none).
        reasons: each refused row's reason (``None`` for the others).
    """

    values: npt.NDArray[Any]
    refused: npt.NDArray[np.bool_] | None
    reasons: npt.NDArray[np.object_] | None


def check_column(
    field: InputField, values: Any, codes: npt.NDArray[np.intp] | None = None
) -> ColumnCheck:
    """Check a whole column (a batch): every row, vectorised where the values are typed.

    With ``codes``, ``values`` are the column's distinct values and ``codes`` each
    row's position among them (-1: missing), as a dictionary-encoded column holds
    them: each distinct value is read once.
    """
    reading = read(field.kind, values)
    if codes is not None:
        reading = reading.expand(codes)
    n = len(reading.values)
    reasons = np.full(n, None, dtype=object)
    refused = np.zeros(n, dtype=bool)

    def refuse(mask: npt.NDArray[np.bool_] | None, reason: str) -> None:
        if mask is None:
            return
        target = mask & ~refused
        if target.any():
            reasons[target] = reason
            refused[target] = True

    refuse(reading.bad, field.bad_reason())
    if field.kind == "numeric":
        refuse(np.abs(reading.values) > FLOAT32_MAX, field.range_reason())
    if not field.nullable:
        refuse(reading.missing(), field.missing_reason())
    if not refused.any():
        return ColumnCheck(reading.values, None, None)
    return ColumnCheck(reading.values, refused, reasons)
