"""The user's declared column types, applied to every batch as it is read.

A column declared ``numeric``, ``integer`` or ``datetime`` (or given a
``--date-format``) is converted batch by batch, before anything is stored, so the
stored data agrees with its declared type and a value that does not convert is
refused with its column, row and value.

Dates: a format given with ``date_formats`` is used as is (``strftime`` codes:
``%d/%m/%Y``, ``%d %b %Y``). A column declared ``datetime`` without a format has
its format guessed once, from its first value, with pandas' guesser (so
``07/10/2022`` reads month first, as pandas does; give the format to say
otherwise), and every later value must match it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from modelyard.errors import InvalidInputError

__all__ = ["BatchCaster"]

_CASTS = {"numeric": pa.float64(), "integer": pa.int64()}


@dataclass
class BatchCaster:
    """Converts each batch's declared columns; remembers guessed date formats.

    Attributes:
        types: logical type name per column (only numeric, integer and datetime
            change the data).
        date_formats: a ``strftime`` format per datetime column.
    """

    types: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)
    _formats: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._formats = dict(self.date_formats)

    @property
    def columns(self) -> set[str]:
        """Every column this caster touches."""
        return set(self.types) | set(self.date_formats)

    def check_columns(self, names: Iterable[str]) -> None:
        """Refuse a declared column that the source does not have.

        Raises:
            InvalidInputError: naming the column and listing the source's columns.
        """
        present = list(names)
        for column in sorted(self.columns - set(present)):
            option = "type" if column in self.types else "date format"
            raise InvalidInputError(
                f"cannot set the {option} of column {column!r}: no such column "
                f"(columns: {', '.join(present)})",
                details={"column": column},
            )
        for column, logical in self.types.items():
            if column in self.date_formats and logical.lower() != "datetime":
                raise InvalidInputError(
                    f"column {column!r} has a date format but is declared {logical}",
                    details={"column": column},
                )

    def __call__(self, batch: pa.RecordBatch, first_row: int) -> pa.RecordBatch:
        """``batch`` (whose first row is data row ``first_row + 1``), converted.

        Raises:
            InvalidInputError: a value that does not convert, naming the column,
                the row and the value.
        """
        if not self.columns:
            return batch
        arrays = list(batch.columns)
        for index, name in enumerate(batch.schema.names):
            target = self._target(name)
            if target is None:
                continue
            arrays[index] = self._convert(batch.column(index), name, target, first_row)
        return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)

    def _target(self, name: str) -> str | None:
        if name in self.date_formats:
            return "datetime"
        logical = self.types.get(name, "").lower()
        return logical if logical in ("numeric", "integer", "datetime") else None

    def _convert(self, array: pa.Array, name: str, target: str, first_row: int) -> pa.Array:
        if pat.is_dictionary(array.type):
            array = array.dictionary_decode()
        if target == "datetime":
            return self._to_datetime(array, name, first_row)
        kind = _CASTS[target]
        if array.type == kind:
            return array
        try:
            return array.cast(kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            row, value = _first_failure(array, lambda one: one.cast(kind))
            raise _bad_value(name, target, row + first_row, value, _reason(exc)) from None

    def _to_datetime(self, array: pa.Array, name: str, first_row: int) -> pa.Array:
        if pat.is_timestamp(array.type):
            return array
        if pat.is_date(array.type):
            return array.cast(pa.timestamp("us"))
        if pat.is_null(array.type):
            return pa.nulls(len(array), pa.timestamp("us"))
        if not (pat.is_string(array.type) or pat.is_large_string(array.type)):
            raise InvalidInputError(
                f"column {name!r} cannot be read as datetime: it holds {array.type} values, "
                "not dates written as text",
                details={"column": name, "type": "datetime"},
            )
        fmt = self._formats.get(name)
        if fmt is None:
            fmt = _guess_format(array, name, first_row)
            if fmt is None:
                return pa.nulls(len(array), pa.timestamp("us"))
            self._formats[name] = fmt
        return _parse_dates(array, fmt, name, first_row, guessed=name not in self.date_formats)


def _guess_format(array: pa.Array, name: str, first_row: int) -> str | None:
    """The format of the column's first value, or ``None`` when the batch has none."""
    from pandas.tseries.api import guess_datetime_format

    present = array.drop_null()
    if len(present) == 0:
        return None
    first = str(present[0].as_py()).strip()
    with warnings.catch_warnings():
        # The guesser warns when it reads day first; the format it returns is what
        # counts, and the docs tell the user how to choose another.
        warnings.simplefilter("ignore")
        fmt: str | None = guess_datetime_format(first)
    if fmt is None:
        row = first_row + pc.index(pc.is_valid(array), True).as_py() + 1
        raise InvalidInputError(
            f"column {name!r} cannot be read as datetime: no date format recognised in "
            f"{first!r} (row {row:,}); give it with --date-format {name}=FORMAT",
            details={"column": name, "row": row, "value": first},
        )
    return fmt


def _parse_dates(
    array: pa.Array, fmt: str, name: str, first_row: int, *, guessed: bool
) -> pa.Array:
    unit_type = pa.timestamp("us", "UTC") if "%z" in fmt else pa.timestamp("us")
    try:
        parsed = pc.strptime(array, format=fmt, unit="us", error_is_null=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed = _pandas_dates(array, fmt)
    failed = pc.and_(pc.is_valid(array), pc.is_null(parsed))
    if pc.any(failed).as_py():
        # Arrow's strptime lacks some codes (%f fractions); pandas reads them.
        parsed = _pandas_dates(array, fmt)
        failed = pc.and_(pc.is_valid(array), pc.is_null(parsed))
        if pc.any(failed).as_py():
            index = pc.index(failed, True).as_py()
            how = "guessed from its first value" if guessed else "given"
            raise InvalidInputError(
                f"column {name!r} row {first_row + index + 1:,}: {array[index].as_py()!r} "
                f"does not match the date format {fmt} ({how}); give the format with "
                f"--date-format {name}=FORMAT",
                details={"column": name, "row": first_row + index + 1, "format": fmt},
            )
    if parsed.type != unit_type:
        parsed = parsed.cast(unit_type)
    return parsed


def _pandas_dates(array: pa.Array, fmt: str) -> pa.Array:
    import pandas as pd

    values = pd.to_datetime(
        pd.Series(array.to_pylist(), dtype="object"), format=fmt, errors="coerce"
    )
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC")
    return pa.array(values, from_pandas=True)


def _first_failure(array: pa.Array, convert: Any) -> tuple[int, Any]:
    """The position and value of the first element that ``convert`` refuses."""
    for index in range(len(array)):
        one = array.slice(index, 1)
        try:
            convert(one)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return index, one[0].as_py()
    return 0, None


def _bad_value(name: str, target: str, row: int, value: Any, reason: str) -> InvalidInputError:
    return InvalidInputError(
        f"column {name!r} cannot be read as {target}: row {row + 1:,} holds {value!r} ({reason})",
        details={"column": name, "type": target, "row": row + 1, "value": value},
    )


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
