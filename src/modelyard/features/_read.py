"""Raw values read as their column's kind: the one set of reading rules.

Training (a DataFrame), prediction (a DataFrame or request columns), the gateway's
request check and the batch row check all read a raw column here, so a value is
accepted, refused or seen as missing the same way on every path:

- ``numeric``: numbers, and text that Python's ``float`` reads once stripped;
  empty text, ``nan``, ``na``, ``null`` and ``none`` (any case) are missing.
  A boolean is not a number.
- ``boolean``: booleans, the numbers 0 and 1, and the words of
  :data:`TRUE_WORDS` / :data:`FALSE_WORDS` (stripped, any case).
- ``categorical``: text as it is; a boolean as ``true`` / ``false``; a whole
  number as its digits (``3`` for 3.0); bytes only when they are UTF-8.
- ``datetime``: datetimes, dates and ISO-8601 text (other date text through
  pandas' parser, which is imported only then); a zoned value is read as UTC, a
  naive one as given; a number is epoch milliseconds, what pandas' ``to_json``
  writes by default; floored to the second.

Anything else is *bad*: the adapter raises, the request check answers 422, the
batch check sends the row to the job's errors. A reader takes a list, a numpy
array (typed or of objects) or a pandas Series and returns numpy: typed arrays
and Series of plain dtypes are read vectorised, objects one by one (a request's
one row, a batch's distinct values). This module imports only numpy.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "DATETIME_PARTS",
    "FALSE_WORDS",
    "FLOAT32_MAX",
    "KINDS",
    "MISSING_CATEGORY",
    "TRUE_WORDS",
    "Reading",
    "epoch_parts",
    "read",
    "read_categories",
]

KINDS = ("numeric", "boolean", "categorical", "datetime")
MISSING_CATEGORY = "__missing__"
DATETIME_PARTS = ("year", "month", "dayofweek", "hour", "days_since_ref")
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0"})
# Models read float32 features: a larger magnitude would be infinity in the cast.
FLOAT32_MAX = 3.4028234663852886e38
_MISSING_TEXT = frozenset({"", "nan", "na", "null", "none"})
_REFERENCE_EPOCH = 946_684_800  # 2000-01-01T00:00:00, the reference of days_since_ref
_EPOCH = dt.datetime(1970, 1, 1)
_SECOND = dt.timedelta(seconds=1)
_NAT = np.iinfo(np.int64).min  # datetime64's NaT as an integer
_BAD = object()  # a value's reader result when the value cannot be read
_DISTINCT_MIN_ROWS = 64
_FEW_ROWS = 16  # up to this many values, Python's scalars beat numpy's per-call cost


class Reading(NamedTuple):
    """A column read as its kind.

    Attributes:
        values: ``float64`` (numeric, boolean 0/1; NaN where missing), ``object``
            text (categorical; ``None`` where missing) or ``datetime64[s]``
            (datetime; NaT where missing). A bad value reads as missing here.
        bad: which values could not be read (``None``: none could not).
    """

    values: npt.NDArray[Any]
    bad: npt.NDArray[np.bool_] | None

    def expand(self, codes: npt.NDArray[np.intp]) -> Reading:
        """The reading of a column whose rows are ``codes`` into these values (read
        from its distinct values); code -1 is a missing value."""
        values = self.values
        if values.dtype == object:
            missing: Any = None
        elif values.dtype.kind == "M":
            missing = np.datetime64("NaT", "s")
        else:
            missing = np.nan
        table = np.append(values, np.asarray([missing], dtype=values.dtype))
        bad = None if self.bad is None else np.append(self.bad, False)[codes]
        return Reading(table[codes], bad)

    def missing(self) -> npt.NDArray[np.bool_]:
        """Which values are missing (bad values are not counted as missing)."""
        values = self.values
        if values.dtype == object:
            missing = np.fromiter((v is None for v in values), bool, len(values))
        elif values.dtype.kind == "M":
            missing = np.isnat(values)
        else:
            missing = np.isnan(values)
        return missing if self.bad is None else missing & ~self.bad


def read(kind: str, values: Any) -> Reading:
    """Read raw ``values`` (a list, a numpy array or a pandas Series) as ``kind``."""
    if type(values) is list:  # a request's column: no numpy until the result
        return _OBJECTS[kind](values)
    if kind == "categorical" and _long_series(values):
        coded = read_categories(values)
        if coded is None:
            return _categorical_objects(_array(values).tolist())
        codes, distinct = coded
        return distinct.expand(codes)
    array = _array(values)
    if array.dtype.kind in "OUS":
        return _OBJECTS[kind](array.tolist())
    return _TYPED[kind](array)


def _long_series(values: Any) -> bool:
    pandas = sys.modules.get("pandas")  # a Series exists only where pandas was imported
    return (
        pandas is not None
        and isinstance(values, pandas.Series)
        and len(values) > _DISTINCT_MIN_ROWS
    )


def read_categories(values: Any) -> tuple[npt.NDArray[np.intp], Reading] | None:
    """A long Series of categories read one distinct value at a time: each row's
    code (-1 where missing) and the reading of the distinct values, of which
    :meth:`Reading.expand` gives the column's reading. ``None`` for anything else
    (a short column, not a Series, a dtype below), which :func:`read` reads value
    by value.

    A training column holds a few levels in many rows; its Arrow text as Python
    objects costs ten times more than factorizing it. Only dtypes whose distinct
    values are distinct texts: not ``object``, where 1, 1.0 and True hash alike."""
    if not _long_series(values):
        return None
    pd = sys.modules["pandas"]
    dtype = values.dtype
    plain = isinstance(dtype, np.dtype) and dtype.kind in "biuf"
    text = isinstance(dtype, pd.StringDtype) or (
        isinstance(dtype, pd.ArrowDtype) and pd.api.types.is_string_dtype(dtype)
    )
    if not (plain or text):
        return None
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    reading = _categorical_objects(_array(pd.Series(distinct)).tolist())
    return np.asarray(codes, dtype=np.intp), reading


def _array(values: Any) -> npt.NDArray[Any]:
    if isinstance(values, np.ndarray):
        return values.ravel()
    pandas = sys.modules.get("pandas")  # a Series exists only where pandas was imported
    if pandas is not None and isinstance(values, pandas.Series):
        return _from_series(pandas, values)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _from_series(pd: Any, series: Any) -> npt.NDArray[Any]:
    """A Series as numpy through public pandas: plain dtypes as they are, zoned
    datetimes in UTC, anything with missing values as objects with ``None``."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biufMU":
        return np.asarray(series.to_numpy())
    if isinstance(dtype, pd.DatetimeTZDtype):
        return np.asarray(series.dt.tz_convert(None).to_numpy())
    values = series.to_numpy(dtype=object, na_value=None)
    return np.asarray(values, dtype=object)


# -- per-value rules ---------------------------------------------------------------


def _missing_object(value: Any) -> bool:
    """NaN, NaT and pandas' NA (which compares to nothing) are missing besides None."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(value != value)
    return type(value).__name__ in ("NAType", "NaTType") or (
        isinstance(value, np.datetime64) and bool(np.isnat(value))
    )


def _text(value: bytes) -> Any:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return _BAD


def _number(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        return value
    if kind is str:
        text = value.strip()
        if text.lower() in _MISSING_TEXT:
            return math.nan
        try:
            return float(text)
        except ValueError:
            return _BAD
    if kind is bool or isinstance(value, np.bool_):
        return _BAD
    if isinstance(value, (int, np.integer)):
        try:
            return float(value)
        except OverflowError:  # an integer past float64: out of any model's range
            return math.inf if value > 0 else -math.inf
    if isinstance(value, (float, np.floating, Decimal)):
        return float(value)
    if isinstance(value, bytes):
        text = _text(value)
        return _BAD if text is _BAD else _number(text)
    return math.nan if _missing_object(value) else _BAD


def _flag(value: Any) -> Any:
    if type(value) is bool or isinstance(value, np.bool_):
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_WORDS:
            return 1.0
        if text in FALSE_WORDS:
            return 0.0
        return _BAD
    if isinstance(value, (int, float, np.integer, np.floating, Decimal)):
        if value != value:
            return math.nan
        return float(value) if value in (0, 1) else _BAD
    if isinstance(value, bytes):
        text = _text(value)
        return _BAD if text is _BAD else _flag(text)
    return math.nan if _missing_object(value) else _BAD


def _label(value: Any) -> Any:
    if type(value) is str:
        return value
    if value is None:
        return None
    if type(value) is bool or isinstance(value, np.bool_):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if value != value:
            return None
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return _text(value)
    return None if _missing_object(value) else _BAD


def _epoch(value: Any) -> Any:
    """Whole seconds since 1970 (floored; ``_NAT`` where missing) or ``_BAD``."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return _NAT
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            return _parsed(text)
    if isinstance(value, dt.datetime):
        if value != value:  # NaT is a datetime that is not equal to itself
            return _NAT
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        nanoseconds = getattr(value, "value", None)  # a pandas Timestamp: exact, and fast
        if isinstance(nanoseconds, int):
            return nanoseconds // 1_000_000_000
        return (value - _EPOCH) // _SECOND
    if isinstance(value, dt.date):
        return (dt.datetime(value.year, value.month, value.day) - _EPOCH) // _SECOND
    if isinstance(value, np.datetime64):
        return int(value.astype("datetime64[s]").astype(np.int64))
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    ):
        return _epoch_milliseconds(
            int(value) if isinstance(value, int | np.integer) else float(value)
        )
    return _NAT if _missing_object(value) else _BAD


_MAX_MILLISECONDS = 2**62 // 1000  # whole seconds of datetime64[s] stay far from NaT


def _epoch_milliseconds(value: float | int) -> Any:
    """Whole seconds of an epoch-milliseconds number (``_NAT`` for NaN, ``_BAD``
    for infinities and numbers beyond any calendar)."""
    if value != value:
        return _NAT
    if not -_MAX_MILLISECONDS < value < _MAX_MILLISECONDS:
        return _BAD
    return int(value // 1000)


def _parsed(text: str) -> Any:
    """Date text that is not ISO-8601, as pandas reads it (zoned values as UTC)."""
    import pandas as pd

    try:
        moment = pd.to_datetime(text, utc=True, format="mixed")
    except (ValueError, TypeError, OverflowError):
        return _BAD
    if pd.isna(moment):
        return _NAT
    # in the moment's own unit: ``value`` (nanoseconds) overflows past 1677-2262
    # (pandas reads "-1.5" as the year -1)
    return int(moment.tz_localize(None).asm8.astype("datetime64[s]").astype(np.int64))


# -- readers -------------------------------------------------------------------------


def _each(
    values: list[Any], rule: Callable[[Any], Any], missing: Any
) -> tuple[list[Any], npt.NDArray[np.bool_] | None]:
    """``rule`` applied to every value; bad values become ``missing`` and are flagged."""
    out = [rule(value) for value in values]
    if _BAD not in out:
        return out, None
    bad = np.fromiter((value is _BAD for value in out), bool, len(out))
    return [missing if value is _BAD else value for value in out], bad


def _unreadable(n: int, missing: Any, dtype: Any) -> Reading:
    """A typed column of a type the kind cannot read: every value bad."""
    return Reading(np.full(n, missing, dtype=dtype), np.ones(n, dtype=bool))


# Objects (a request's lists, text, a column of mixed values): value by value.


def _numeric_objects(values: list[Any]) -> Reading:
    numbers, bad = _each(values, _number, math.nan)
    return Reading(np.array(numbers, dtype=np.float64), bad)


def _boolean_objects(values: list[Any]) -> Reading:
    flags, bad = _each(values, _flag, math.nan)
    return Reading(np.array(flags, dtype=np.float64), bad)


def _categorical_objects(values: list[Any]) -> Reading:
    labels, bad = _each(values, _label, None)
    out = np.empty(len(labels), dtype=object)
    out[:] = labels
    return Reading(out, bad)


def _datetime_objects(values: list[Any]) -> Reading:
    seconds, bad = _each(values, _epoch, _NAT)
    return Reading(np.array(seconds, dtype=np.int64).view("datetime64[s]"), bad)


# Typed numpy arrays: vectorised.


def _numeric_typed(array: npt.NDArray[Any]) -> Reading:
    if array.dtype.kind in "iuf":
        return Reading(array.astype(np.float64), None)
    return _unreadable(len(array), np.nan, np.float64)  # booleans, datetimes


def _boolean_typed(array: npt.NDArray[Any]) -> Reading:
    kind = array.dtype.kind
    if kind == "b":
        return Reading(array.astype(np.float64), None)
    if kind in "iuf":
        numbers = array.astype(np.float64)
        refused = ~np.isnan(numbers) & (numbers != 0) & (numbers != 1)
        return Reading(np.where(refused, np.nan, numbers), refused if refused.any() else None)
    return _unreadable(len(array), np.nan, np.float64)


def _categorical_typed(array: npt.NDArray[Any]) -> Reading:
    if array.dtype.kind in "biuf":
        return _categorical_objects(array.tolist())
    return _unreadable(len(array), None, object)


def _datetime_typed(array: npt.NDArray[Any]) -> Reading:
    if array.dtype.kind == "M":
        return Reading(array.astype("datetime64[s]"), None)
    if array.dtype.kind in "iuf":  # epoch milliseconds, value by value (the same rule)
        return _datetime_objects(array.tolist())
    return _unreadable(len(array), np.datetime64("NaT", "s"), "datetime64[s]")


_OBJECTS: dict[str, Callable[[list[Any]], Reading]] = {
    "numeric": _numeric_objects,
    "boolean": _boolean_objects,
    "categorical": _categorical_objects,
    "datetime": _datetime_objects,
}
_TYPED: dict[str, Callable[[npt.NDArray[Any]], Reading]] = {
    "numeric": _numeric_typed,
    "boolean": _boolean_typed,
    "categorical": _categorical_typed,
    "datetime": _datetime_typed,
}


def date_parts(seconds: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
    """Year, month, day of week (Monday 0), hour and days since 2000-01-01 of each
    moment, as rows of a ``(5, n)`` float64 table (NaN where the moment is missing)."""
    if len(seconds) <= _FEW_ROWS:
        table = _date_parts_of_few(seconds)
        if table is not None:
            return table
    missing = np.isnat(seconds)
    epoch = seconds.astype(np.int64)
    days = epoch // 86_400
    months = _months(seconds, days, missing)
    table = np.empty((len(DATETIME_PARTS), len(seconds)), dtype=np.float64)
    table[0] = months // 12 + 1970
    table[1] = months % 12 + 1
    table[2] = (days + 3) % 7  # 1970-01-01 was a Thursday
    table[3] = (epoch - days * 86_400) // 3600
    table[4] = (epoch - _REFERENCE_EPOCH) / 86_400.0
    if missing.any():
        table[:, missing] = np.nan
    return table


def _months(
    seconds: npt.NDArray[np.datetime64],
    days: npt.NDArray[np.int64],
    missing: npt.NDArray[np.bool_],
) -> npt.NDArray[np.int64]:
    """Months since 1970-01 of each moment (whole ``days`` since 1970-01-01), from
    numpy's calendar. A column of many rows whose dates span fewer days than half
    its rows (a few years of sign-ups in a million rows) asks the calendar once per
    day of that span and looks each row's day up: the calendar costs several times
    more per value than the look-up. Missing rows get a month that is overwritten."""
    present = days[~missing] if missing.any() else days
    if present.size:
        low, high = int(present.min()), int(present.max())
        if high - low < len(days) // 2:
            span = np.arange(low, high + 1, dtype=np.int64).view("datetime64[D]")
            calendar = span.astype("datetime64[M]").astype(np.int64)
            offsets = days - low
            offsets[missing] = 0
            found: npt.NDArray[np.int64] = calendar[offsets]
            return found
    return seconds.astype("datetime64[M]").astype(np.int64)


def _date_parts_of_few(seconds: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64] | None:
    """:func:`date_parts` of a few moments with Python's calendar (a request: a
    dozen numpy calls on one value cost more than the model); ``None`` for a
    moment outside years 1 to 9999, which only numpy's calendar holds."""
    parts = epoch_parts(seconds.astype(np.int64).tolist())
    if parts is None:
        return None
    return np.array(parts, dtype=np.float64).reshape(len(DATETIME_PARTS), len(seconds))


def epoch_parts(seconds: list[int]) -> list[list[float]] | None:
    """:func:`date_parts` of whole seconds since 1970 (``_NAT`` where missing) as
    five Python lists, one per part; ``None`` for a moment outside years 1 to 9999.
    The one-row paths (a request, a DataFrame of a few rows) use it directly."""
    table: list[list[float]] = [[] for _ in DATETIME_PARTS]
    year, month, weekday, hour, days = table
    for epoch in seconds:
        if epoch == _NAT:
            for part in table:
                part.append(math.nan)
            continue
        try:
            moment = _EPOCH + dt.timedelta(seconds=epoch)
        except OverflowError:
            return None
        year.append(moment.year)
        month.append(moment.month)
        weekday.append(moment.weekday())
        hour.append(moment.hour)
        days.append((epoch - _REFERENCE_EPOCH) / 86_400.0)
    return table
