"""The input adapter: raw columns in, model-ready columns out, identically everywhere.

It runs in front of every flavor of a model (the scikit-learn pipeline, the ONNX
graph, the native booster) so they all see exactly the same inputs:

- numeric, integer and boolean columns become float64 (missing: NaN);
- categorical columns become text (missing: ``"__missing__"``, a level like any
  other, so the encoders need no imputer);
- a datetime column becomes five float64 columns: year, month, day of week,
  hour and days since 2000-01-01.

Values are read with the one set of rules in :mod:`modelyard.features._read`, the
same the gateway's request check and the batch row check use; a value those
rules refuse raises :class:`~modelyard.errors.SchemaMismatchError` naming the
column. The adapter holds no fitted state beyond column names, and imports only
numpy: pandas objects are read through their public ``to_numpy``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from modelyard.errors import SchemaMismatchError
from modelyard.features._check import InputField
from modelyard.features._read import (
    _BAD,
    DATETIME_PARTS,
    FALSE_WORDS,
    MISSING_CATEGORY,
    TRUE_WORDS,
    Reading,
    _epoch,
    _flag,
    _label,
    _number,
    date_parts,
    epoch_parts,
    read,
    read_categories,
)
from modelyard.features._table import Coded, Table

_FEW_ROWS = 16  # up to this many rows, a DataFrame is read a row at a time, as lists

__all__ = [
    "DATETIME_PARTS",
    "FALSE_WORDS",
    "MISSING_CATEGORY",
    "TRUE_WORDS",
    "AdaptedColumn",
    "InputAdapter",
]


@dataclass(frozen=True)
class AdaptedColumn:
    """One column the model graph receives: its name and kind."""

    name: str
    kind: str  # "numeric" or "categorical"


class InputAdapter:
    """Turn raw feature columns into float64 numerics and text categoricals.

    Args:
        numeric: columns to read as numbers (integers and floats).
        boolean: columns to read as 0/1.
        categorical: columns to read as category labels.
        datetime: columns to decompose into date parts.
    """

    def __init__(
        self,
        numeric: tuple[str, ...] = (),
        boolean: tuple[str, ...] = (),
        categorical: tuple[str, ...] = (),
        datetime: tuple[str, ...] = (),
    ) -> None:
        self.numeric = tuple(numeric)
        self.boolean = tuple(boolean)
        self.categorical = tuple(categorical)
        self.datetime = tuple(datetime)
        self._kinds = [
            *((name, "numeric") for name in self.numeric),
            *((name, "boolean") for name in self.boolean),
            *((name, "datetime") for name in self.datetime),
            *((name, "categorical") for name in self.categorical),
        ]
        self._raw = tuple(self.raw_columns)
        self._names = set(self._raw)
        self._date_names = {
            name: [f"{name}__{part}" for part in DATETIME_PARTS] for name in self.datetime
        }
        # each number-like column's reading rule, for adapt_rows
        self._number_rules = [
            *((name, _number) for name in self.numeric),
            *((name, _flag) for name in self.boolean),
        ]

    def __setstate__(self, state: dict[str, Any]) -> None:
        # an adapter pickled in a pipeline before it kept its derived tables
        self.__init__(  # type: ignore[misc]
            state.get("numeric", ()),
            state.get("boolean", ()),
            state.get("categorical", ()),
            state.get("datetime", ()),
        )

    def __repr__(self) -> str:
        return (
            f"InputAdapter(numeric={self.numeric!r}, boolean={self.boolean!r}, "
            f"categorical={self.categorical!r}, datetime={self.datetime!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InputAdapter) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable-looking: compared by value only

    @property
    def raw_columns(self) -> list[str]:
        """The input columns the adapter reads, in order."""
        return [*self.numeric, *self.boolean, *self.categorical, *self.datetime]

    def kinds(self) -> dict[str, str]:
        """How each raw column is read: ``numeric``, ``boolean``, ``categorical`` or
        ``datetime``."""
        return dict(self._kinds)

    def output_columns(self) -> list[AdaptedColumn]:
        """The columns the adapter produces, in order."""
        numeric = [AdaptedColumn(c, "numeric") for c in (*self.numeric, *self.boolean)]
        dates = [
            AdaptedColumn(name, "numeric") for c in self.datetime for name in self._date_names[c]
        ]
        categorical = [AdaptedColumn(c, "categorical") for c in self.categorical]
        return [*numeric, *dates, *categorical]

    def sources(self) -> dict[str, str]:
        """The raw column each adapted column comes from."""
        sources = {name: name for name in self.raw_columns}
        sources.update({part: c for c in self.datetime for part in self._date_names[c]})
        return sources

    def to_dict(self) -> dict[str, list[str]]:
        """JSON-ready form (part of a fitted recipe)."""
        return {
            "numeric": list(self.numeric),
            "boolean": list(self.boolean),
            "categorical": list(self.categorical),
            "datetime": list(self.datetime),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputAdapter:
        """Inverse of :meth:`to_dict`."""
        return cls(
            numeric=tuple(data.get("numeric", ())),
            boolean=tuple(data.get("boolean", ())),
            categorical=tuple(data.get("categorical", ())),
            datetime=tuple(data.get("datetime", ())),
        )

    def adapt(self, data: Mapping[str, Any] | Any) -> dict[str, npt.NDArray[Any]]:
        """Adapt columns given as a mapping of name to values: a DataFrame, or a dict
        of lists, numpy arrays or Series.

        Raises:
            SchemaMismatchError: a column is missing or holds a value its kind
                cannot read.
        """
        self._require(data)
        data = _few_rows(data, self._names)
        values: dict[str, npt.NDArray[Any]] = {}
        coded: dict[str, Coded] = {}
        for name, kind in self._kinds:
            if kind == "categorical" and type(data[name]) is not list:
                found = read_categories(data[name])
                if found is not None and found[1].bad is None:
                    codes, distinct = found
                    coded[name] = Coded(codes, _labels(distinct.values))
                    continue
            reading = read(kind, data[name])
            if reading.bad is not None:
                _refuse(name, kind, data[name], reading)
            values[name] = reading.values
        return self._shape(values, coded)

    def shape(self, values: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
        """Adapted columns from columns already read as their kinds (see
        :class:`~modelyard.features._read.Reading`: the checker's output)."""
        return self._shape(values, {})

    def _shape(
        self, values: Mapping[str, npt.NDArray[Any]], coded: Mapping[str, Coded]
    ) -> dict[str, npt.NDArray[Any]]:
        """The adapted columns; a :class:`Table` keeping the codes of the columns in
        ``coded`` when there are any (a request's few rows have none: a plain dict,
        which costs less to copy and read)."""
        table = Table() if coded else None
        out: dict[str, npt.NDArray[Any]] = {} if table is None else table
        for name, kind in self._kinds:
            if table is not None and name in coded:  # read from its distinct values
                table.put_coded(name, *coded[name])
                continue
            column = values[name]
            if kind == "datetime":
                out.update(zip(self._date_names[name], date_parts(column), strict=True))
            elif kind == "categorical":
                labels = column.tolist()
                if None in labels:  # missing is a level of its own
                    column = np.empty(len(labels), dtype=object)
                    column[:] = [MISSING_CATEGORY if v is None else v for v in labels]
                out[name] = column
            else:
                out[name] = column
        return out

    def adapt_rows(self, data: Mapping[str, Any] | Any) -> dict[str, list[Any]] | None:
        """:meth:`adapt` of up to 16 rows (a request's columns, a DataFrame of a few
        rows), as Python lists instead of arrays: each value read by the same
        per-value rules :func:`read` applies to a list, with no numpy on the way
        (making and reading one-value arrays cost more than the model). ``None``
        when the columns are not lists of that many rows, or a value is bad: then
        :meth:`adapt` reads them (and names the bad value).

        Raises:
            SchemaMismatchError: a column is missing.
        """
        self._require(data)
        data = _few_rows(data, self._names)
        rows = 0
        out: dict[str, list[Any]] = {}
        for name, rule in self._number_rules:
            values = data[name]
            if type(values) is not list or not 0 < len(values) <= _FEW_ROWS:
                return None
            read_ = [rule(value) for value in values]
            rows = rows or len(read_)
            if len(read_) != rows or _BAD in read_:
                return None
            out[name] = read_
        for name in self.datetime:
            values = data[name]
            if type(values) is not list or not 0 < len(values) <= _FEW_ROWS:
                return None
            seconds = [_epoch(value) for value in values]
            rows = rows or len(seconds)
            if len(seconds) != rows or _BAD in seconds:
                return None
            parts = epoch_parts(seconds)
            if parts is None:  # outside years 1 to 9999: numpy's calendar (adapt)
                return None
            out.update(zip(self._date_names[name], parts, strict=True))
        for name in self.categorical:
            values = data[name]
            if type(values) is not list or not 0 < len(values) <= _FEW_ROWS:
                return None
            read_ = [_label(value) for value in values]
            rows = rows or len(read_)
            if len(read_) != rows or _BAD in read_:
                return None
            out[name] = [MISSING_CATEGORY if value is None else value for value in read_]
        return out

    def _require(self, data: Mapping[str, Any] | Any) -> None:
        missing = [c for c in self._raw if c not in data]
        if missing:
            raise SchemaMismatchError(
                f"missing input column(s): {', '.join(missing)}", details={"missing": missing}
            )


def _few_rows(data: Mapping[str, Any] | Any, names: set[str]) -> Mapping[str, Any] | Any:
    """A DataFrame of a few rows as ``{column: [values]}`` for the columns in
    ``names``, cell by cell through the public ``iat``: selecting a column as a
    Series, or the whole frame as objects, costs several times more than reading a
    request's row this way (``LoadedModel.predict`` on one row)."""
    pandas = sys.modules.get("pandas")
    if pandas is None or not isinstance(data, pandas.DataFrame) or len(data) > _FEW_ROWS:
        return data
    labels = data.columns.tolist()
    if len(set(labels)) != len(labels):
        return data
    cell = data.iat
    rows = range(len(data))
    return {
        name: [cell[row, index] for row in rows]
        for index, name in enumerate(labels)
        if name in names
    }


def _labels(distinct: npt.NDArray[Any]) -> npt.NDArray[np.object_]:
    """The distinct labels of a column read as codes, missing as its own level,
    which is also the last label (what code -1 picks)."""
    labels = np.empty(len(distinct) + 1, dtype=object)
    labels[:-1] = [MISSING_CATEGORY if v is None else v for v in distinct.tolist()]
    labels[-1] = MISSING_CATEGORY
    return labels


def _refuse(name: str, kind: str, given: Any, reading: Reading) -> None:
    assert reading.bad is not None
    row = int(np.flatnonzero(reading.bad)[0])
    values = given.to_numpy() if hasattr(given, "to_numpy") else np.asarray(given, dtype=object)
    example = values.ravel()[row]
    raise SchemaMismatchError(
        f"{InputField(name, kind).bad_reason()}, got {example!r:.60}",
        details={"column": name, "row": row, "value": repr(example)[:100]},
    )
