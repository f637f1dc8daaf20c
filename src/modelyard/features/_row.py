"""One row through the feature recipe in plain Python: what a single request needs.

For one row, numpy's per-call overhead (tens of microseconds per column and step)
costs far more than the arithmetic, so a request of one row is adapted and encoded
here with Python scalars, in exactly the operations and order of
:meth:`InputAdapter.adapt` and :meth:`FeatureRecipe.apply` (IEEE double arithmetic
is the same in both). Anything unusual (a missing column, a value of an
unexpected type, more than one row) returns ``None`` and takes the vectorised
path, which also raises the errors.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from modelyard.errors import SchemaMismatchError
from modelyard.features._adapter import (
    _REFERENCE_EPOCH,
    DATETIME_PARTS,
    FALSE_WORDS,
    TRUE_WORDS,
    _as_date_parts,
    _category_text,
    _numpy_text,
)

__all__ = ["row_matrix"]

_NUMBER = (bool, int, float, np.bool_, np.integer, np.floating)
_LABELLED = (str, bool, int, float, np.bool_, np.integer)  # categorical values read here
_READ_KINDS = frozenset("biufcO")  # numpy blocks whose cells tolist reads as the cells
_STRING_DTYPE = pd.StringDtype
_EPOCH = dt.datetime(1970, 1, 1)
_SECOND = dt.timedelta(seconds=1)
# ISO-8601 without a zone, as numpy reads it: only these strings skip numpy here.
_NAIVE_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?)?")


def row_matrix(recipe: Any, columns: Mapping[str, Any]) -> npt.NDArray[Any] | None:
    """The model input matrix ``(1, n_features)`` for one row given as
    ``{column: [value]}`` or a one-row DataFrame, or ``None`` to use the vectorised
    path.

    Raises:
        SchemaMismatchError: a value cannot be read as its column's type (the same
            message the vectorised path gives).
    """
    adapter = recipe.adapter
    plan = _plan(recipe)
    if isinstance(columns, pd.DataFrame):
        if len(columns) != 1 or not columns.columns.is_unique:
            return None
        values = _frame_row(columns)
        if not values.keys() >= plan.inputs:
            return None  # a missing column: the vectorised path names it
    else:
        given = _given_values(plan.inputs, columns)
        if given is None:
            return None
        values = given
    adapted: dict[str, Any] = {}
    for name in adapter.numeric:
        number = _number(name, values[name])
        if number is None:
            return None
        adapted[name] = number
    for name in adapter.boolean:
        flag = _flag(name, values[name])
        if flag is None:
            return None
        adapted[name] = flag
    for name in adapter.datetime:
        parts = _date_parts(values[name])
        if parts is None:
            parts = tuple(float(a[0]) for a in _as_date_parts(name, [values[name]]).values())
        adapted.update(zip(plan.date_names[name], parts, strict=True))
    for name in adapter.categorical:
        label = _label(values[name])
        if label is None:
            return None
        adapted[name] = label
    return _encode(plan, adapted, recipe.output_dtype)


def _given_values(names: Any, columns: Mapping[str, Any]) -> dict[str, Any] | None:
    """Each column's one value from ``{column: [value]}`` (lists, tuples or numpy
    arrays), or ``None`` when a column is missing or holds other than one value."""
    values: dict[str, Any] = {}
    for name in names:
        given = columns.get(name)
        if type(given) is np.ndarray:
            if given.shape != (1,):
                return None
            # numbers and strings as Python scalars (tolist's), anything else as is
            values[name] = given.item() if given.dtype.kind in "biufUS" else given[0]
            continue
        if not isinstance(given, (list, tuple)) or len(given) != 1:
            return None
        values[name] = given[0]
    return values


def _frame_row(frame: pd.DataFrame) -> dict[str, Any]:
    """A one-row DataFrame as ``{column: value}``.

    pandas has no public way to read a row without boxing each cell, which costs
    2 to 8 microseconds a cell (``iat``; more for Arrow text and datetimes), about
    100 for the churn model's 17 columns: more than the model itself. So the row is
    read from the frame's blocks, a few microseconds in all, giving the values the
    cell path gives (as Python scalars where it gives numpy ones, which the row
    encoding reads alike). Any layout not recognised below falls back to the cells.
    """
    try:
        return _row_from_blocks(frame)
    except (AttributeError, TypeError, ValueError, IndexError):
        return {name: frame.iat[0, i] for i, name in enumerate(frame.columns.tolist())}


def _row_from_blocks(frame: pd.DataFrame) -> dict[str, Any]:
    # Kept lean: this runs once per request, and each check here costs about as much
    # as reading the block it guards (the churn row has 13 blocks).
    manager = frame._mgr
    cells: list[Any] = []  # the blocks' cells, block after block
    starts: list[int] = []  # where each block's cells begin in ``cells``
    for block in manager.blocks:
        starts.append(len(cells))
        values = block.values
        if type(values) is np.ndarray:  # (columns of the block, 1 row)
            if values.dtype.kind not in _READ_KINDS or values.shape[1] != 1:
                raise TypeError(f"a block of {values.dtype}: read cell by cell")
            cells += values.ravel().tolist()  # Python scalars, or the objects
            continue
        dtype = values.dtype
        if type(dtype) is _STRING_DTYPE and dtype.storage == "pyarrow":
            cells += _arrow_list(values._pa_array)  # str, or None: missing
        elif isinstance(dtype, np.dtype) and dtype.kind == "M":
            # naive datetimes as datetime.datetime of whole microseconds (NaT: None):
            # both paths floor to the second, so the nanoseconds dropped change nothing
            cells += values._ndarray.ravel().astype("datetime64[us]").tolist()
        else:
            raise TypeError(f"a block of {dtype}: read cell by cell")
    # column i is cell blklocs[i] of block blknos[i]
    where = zip(manager.blknos.tolist(), manager.blklocs.tolist(), strict=True)
    return {
        name: cells[starts[block] + cell]
        for name, (block, cell) in zip(_column_names(frame.columns), where, strict=True)
    }


def _arrow_list(chunked: Any) -> list[Any]:
    """A chunked Arrow array as a list: from its one chunk when it has one, which
    costs half of the chunked array's own ``to_pylist`` (1.2 against 2.2 us)."""
    cells: list[Any] = (
        chunked.chunk(0).to_pylist() if chunked.num_chunks == 1 else chunked.to_pylist()
    )
    return cells


def _column_names(columns: pd.Index) -> list[Any]:
    """The column labels (pandas' ``tolist`` reads Arrow-backed ones a label at a
    time: 7 of the row's microseconds, against 2 from the Arrow array at once)."""
    arrow = getattr(columns.array, "_pa_array", None)
    if arrow is not None and type(columns.dtype) is _STRING_DTYPE:
        labels: list[Any] = _arrow_list(arrow)
        if None not in labels:
            return labels
    return columns.tolist()


def _number(name: str, value: Any) -> float | None:
    if value is None:
        return math.nan
    if isinstance(value, _NUMBER):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise SchemaMismatchError(
                f"column {name!r} must be numeric, got {value!r}",
                details={"column": name, "value": value},
            ) from None
    return None


def _date_parts(value: Any) -> tuple[float, ...] | None:
    """Year, month, day of week, hour and days since 2000-01-01 of a naive datetime
    or ISO string, as the numpy path computes them (on whole seconds, floored);
    ``None`` for anything else (zoned, other formats, numpy scalars), which the
    vectorised code reads, or refuses with its own message."""
    if value is None:
        return (math.nan,) * len(DATETIME_PARTS)
    if isinstance(value, str):
        if _NAIVE_ISO.fullmatch(value) is None:
            return None
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:  # e.g. 2024-02-30: the vectorised path says what is wrong
            return None
    if not isinstance(value, dt.datetime) or value.tzinfo is not None or value != value:
        return None  # NaT is a datetime that is not equal to itself
    if isinstance(value, pd.Timestamp):  # its arithmetic builds pandas objects: slow
        epoch = value.value // 1_000_000_000  # nanoseconds since 1970, floored to seconds
    else:
        epoch = (value - _EPOCH) // _SECOND
    floored = _EPOCH + dt.timedelta(seconds=epoch)
    return (
        float(floored.year),
        float(floored.month),
        float(floored.weekday()),
        float(floored.hour),
        (epoch - _REFERENCE_EPOCH) / 86_400.0,
    )


def _flag(name: str, value: Any) -> float | None:
    if value is None:
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return math.nan
    if not isinstance(value, (str, int, float, np.integer, np.floating)):
        return None
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return 1.0
    if text in FALSE_WORDS:
        return 0.0
    raise SchemaMismatchError(
        f"column {name!r} must be boolean, got {value!r}",
        details={"column": name, "value": str(value)},
    )


def _label(value: Any) -> str | None:
    """The level text the vectorised path compares (the adapter's text, as numpy
    holds it); ``None`` for a value of another type, which that path reads."""
    if type(value) is str:  # most levels: the adapter's text is the string itself
        return _numpy_text(value)
    if value is None or value is pd.NA or isinstance(value, _LABELLED):
        return _numpy_text(_category_text(value))
    return None


@dataclass(frozen=True)
class _Plan:
    """A recipe's fitted steps as plain tuples, built once per recipe: reading the
    spec dicts (and formatting date-part names) for every request cost about a
    third of a row's encoding."""

    inputs: frozenset[str]  # the raw columns the adapter reads
    date_names: dict[str, tuple[str, ...]]
    numeric: tuple[tuple[str, float, float, float], ...]  # name, fill, center, scale
    indicators: tuple[int, ...]  # positions in ``numeric`` that add a missing flag
    # name, level -> code, encoding, first output column, target values, default
    categorical: tuple[tuple[str, dict[str, int], str, int, tuple[float, ...], float], ...]
    width: int  # output columns


def _plan(recipe: Any) -> _Plan:
    plan: _Plan | None = recipe.__dict__.get("_row_plan")
    if plan is None:
        starts, column = [], len(recipe.numeric_) + sum(s["indicator"] for s in recipe.numeric_)
        for spec in recipe.categorical_:
            starts.append(column)
            column += len(spec["levels"]) if spec["encoding"] == "one_hot" else 1
        plan = _Plan(
            inputs=frozenset(recipe.adapter.raw_columns),
            date_names={
                name: tuple(f"{name}__{part}" for part in DATETIME_PARTS)
                for name in recipe.adapter.datetime
            },
            numeric=tuple(
                (spec["name"], spec["fill"], spec["center"], spec["scale"])
                for spec in recipe.numeric_
            ),
            indicators=tuple(i for i, spec in enumerate(recipe.numeric_) if spec["indicator"]),
            categorical=tuple(
                (
                    spec["name"],
                    recipe.level_lookup(spec),
                    spec["encoding"],
                    start,
                    tuple(spec.get("values") or ()),
                    spec.get("default", 0.0),
                )
                for spec, start in zip(recipe.categorical_, starts, strict=True)
            ),
            width=column,
        )
        recipe.__dict__["_row_plan"] = plan
    return plan


def _encode(plan: _Plan, adapted: dict[str, Any], dtype: Any) -> npt.NDArray[Any]:
    """The row in the recipe's column order: numbers standardised, then missing
    flags, then each categorical's one-hot block, code or target value."""
    row = [0.0] * plan.width
    absent: list[int] = []
    for position, (name, fill, center, scale) in enumerate(plan.numeric):
        value = adapted[name]
        if value != value:  # NaN
            value = fill
            absent.append(position)
        row[position] = (value - center) / scale
    if absent:
        flags = len(plan.numeric)
        for offset, position in enumerate(plan.indicators):
            if position in absent:
                row[flags + offset] = 1.0
    for name, lookup, encoding, start, values, default in plan.categorical:
        code = lookup.get(adapted[name], -1)
        if encoding == "one_hot":
            if code >= 0:  # an unseen level: all zeros
                row[start + code] = 1.0
        elif encoding == "ordinal":
            row[start] = float(code)
        else:
            row[start] = default if code < 0 else values[code]
    # Python floats are doubles: made straight into ``dtype`` they round as a
    # float64 matrix cast to it does
    return np.array([row], dtype=dtype)
