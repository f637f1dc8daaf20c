"""Check rows against a model's signature and adapt them, column by column, in Arrow.

This is the batch twin of :class:`~modelyard.features.InputAdapter`: the same
values come out (float64 numerics with NaN for missing, 0/1 booleans, string
categories with ``__missing__``, five date parts), but computed with vectorised
Arrow kernels on a record batch instead of pandas, and a value that does not fit
rejects its row with a reason instead of failing the whole batch.

A row is rejected when a column the model reads is missing, a value cannot be read
as the column's kind, or a value is missing where training saw none
(``nullable: false`` in the signature).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["CheckedRows", "check_rows", "reading"]

# The adapter's constants, written here so the driver need not import scikit-learn
# (the features package does); tests/batch/test_rows.py pins them to the adapter's.
MISSING_CATEGORY = "__missing__"
DATETIME_PARTS = ("year", "month", "dayofweek", "hour", "days_since_ref")
_TRUE = ["true", "t", "yes", "y", "1", "1.0"]
_FALSE = ["false", "f", "no", "n", "0", "0.0"]
_REFERENCE_SECONDS = 946_684_800  # 2000-01-01T00:00:00 UTC, the adapter's reference


@dataclass
class CheckedRows:
    """A batch split into rows the model can read and rows it cannot.

    Attributes:
        good: boolean mask of usable rows.
        reasons: why each rejected row was rejected (``None`` for good rows).
        numbers: the adapter's float64 columns (numeric, boolean, date parts) for the
            good rows only.
        categories: the adapter's category columns for the good rows only, as Arrow
            text or a dictionary of text (``__missing__`` where missing): the feature
            recipe looks their levels up in Arrow (:mod:`~modelyard.batch._matrix`),
            which is several times cheaper than turning them into Python strings.
    """

    good: npt.NDArray[np.bool_]
    reasons: npt.NDArray[np.object_]
    numbers: dict[str, npt.NDArray[np.float64]]
    categories: dict[str, pa.Array]

    @property
    def adapted(self) -> dict[str, npt.NDArray[Any]]:
        """Every adapted column as numpy, as :class:`~modelyard.features.InputAdapter`
        gives it (categories as object arrays of ``str``), for the pipeline flavor."""
        columns: dict[str, npt.NDArray[Any]] = dict(self.numbers)
        for name, text in self.categories.items():
            if pa.types.is_dictionary(text.type):
                text = text.cast(text.type.value_type)
            columns[name] = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
        return columns


def check_rows(batch: pa.RecordBatch, inputs: list[dict[str, Any]]) -> CheckedRows:
    """Check ``batch`` against the signature ``inputs``; adapt the good rows."""
    n = batch.num_rows
    reasons = np.full(n, None, dtype=object)
    rejected = np.zeros(n, dtype=bool)
    numbers: dict[str, npt.NDArray[np.float64]] = {}
    categories: dict[str, pa.Array] = {}
    names = set(batch.schema.names)
    for spec in inputs:
        name, kind = spec["name"], spec["kind"]
        if name not in names:
            _reject(reasons, rejected, np.ones(n, dtype=bool), f"missing column {name!r}")
            continue
        column = batch.column(name)
        values: npt.NDArray[Any]
        if kind == "numeric":
            values, bad = _numeric(column)
            missing = np.isnan(values) & ~bad
            numbers[name] = values
        elif kind == "boolean":
            values, bad = _boolean(column)
            missing = np.isnan(values) & ~bad
            numbers[name] = values
        elif kind == "categorical":
            categories[name], bad, missing = _categorical(column)
        else:
            parts, bad, missing = _datetime(column)
            numbers.update({f"{name}__{part}": parts[part] for part in DATETIME_PARTS})
        _reject(reasons, rejected, bad, f"column {name!r} must be {kind}")
        if not spec.get("nullable", True):
            _reject(reasons, rejected, missing, f"missing value in column {name!r} (not nullable)")
    good = ~rejected
    if rejected.any():
        numbers = {key: values[good] for key, values in numbers.items()}
        mask = pa.array(good)
        categories = {key: text.filter(mask) for key, text in categories.items()}
    return CheckedRows(good, reasons, numbers, categories)


def reading(column: pa.Array, kind: str) -> pa.Array:
    """How the model reads ``column`` of ``kind``, as Arrow: ``float64``, ``bool``,
    ``string`` or naive UTC ``timestamp[s]`` (null where missing).

    A CSV column's type is guessed from the first block of its file, and a later
    value the model accepts may not fit that guess (``12.5`` after whole numbers, a
    category ``A`` after digits): batch output keeps the model's reading instead, so
    every part of a job has the same schema whatever the values.
    """
    if kind == "numeric":
        numbers, _ = _numeric(column)
        return pa.array(numbers, pa.float64(), from_pandas=True)
    if kind == "boolean":
        flags, _ = _boolean(column)
        return pa.array(flags == 1.0, pa.bool_(), mask=np.isnan(flags))
    if kind == "categorical":
        strings = _strings(column)
        return strings if strings is not None else pa.nulls(len(column), pa.string())
    return _seconds(column)[0]


def _reject(
    reasons: npt.NDArray[np.object_],
    rejected: npt.NDArray[np.bool_],
    mask: npt.NDArray[np.bool_],
    reason: str,
) -> None:
    """Give ``reason`` to rows in ``mask`` not rejected yet (the first reason wins)."""
    target = mask & ~rejected
    if target.any():
        reasons[target] = reason
        rejected |= target


def _to_numpy_float(array: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.float64]:
    filled = pc.fill_null(pc.cast(array, pa.float64()), np.nan)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.float64)


def _numeric(column: pa.Array) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    kind = column.type
    n = len(column)
    if pa.types.is_null(kind):
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _to_numpy_float(column), np.zeros(n, dtype=bool)
    if pa.types.is_boolean(kind):
        return _to_numpy_float(column), np.zeros(n, dtype=bool)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = pc.utf8_trim_whitespace(column)
        empty = pc.equal(pc.utf8_length(text), 0)
        text = pc.if_else(empty, pa.scalar(None, text.type), text)
        try:
            return _to_numpy_float(text), np.zeros(n, dtype=bool)
        except pa.ArrowInvalid:
            return _numeric_slowly(text.to_pylist())
    return np.full(n, np.nan), np.asarray(pc.is_valid(column), dtype=bool)


def _numeric_slowly(
    values: list[str | None],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Value by value, only for a batch holding text that is not a number."""
    out = np.full(len(values), np.nan)
    bad = np.zeros(len(values), dtype=bool)
    for index, value in enumerate(values):
        if value is None:
            continue
        try:
            out[index] = float(value)
        except ValueError:
            bad[index] = True
    return out, bad


def _boolean(column: pa.Array) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    kind = column.type
    n = len(column)
    if pa.types.is_null(kind):
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    if pa.types.is_boolean(kind):
        return _to_numpy_float(column), np.zeros(n, dtype=bool)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        values = _to_numpy_float(column)
        bad = ~np.isnan(values) & (values != 0) & (values != 1)
        return np.where(bad, np.nan, values), bad
    strings = _strings(column)
    if strings is None:
        return np.full(n, np.nan), np.asarray(pc.is_valid(column), dtype=bool)
    text = pc.utf8_lower(pc.utf8_trim_whitespace(strings))
    true = np.asarray(pc.fill_null(pc.is_in(text, pa.array(_TRUE)), False), dtype=bool)
    false = np.asarray(pc.fill_null(pc.is_in(text, pa.array(_FALSE)), False), dtype=bool)
    present = np.asarray(pc.is_valid(text), dtype=bool)
    values = np.where(true, 1.0, np.where(false, 0.0, np.nan))
    return values, present & ~true & ~false


def _strings(column: pa.Array) -> pa.Array | None:
    """``column`` as text, or ``None`` for a type that has none (lists, structs, bad UTF-8)."""
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _categorical(
    column: pa.Array,
) -> tuple[pa.Array, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """The adapter's category text as Arrow ``string`` (``__missing__`` where missing),
    which values cannot be read as text, and which are missing."""
    kind = column.type
    missing = ~np.asarray(pc.is_valid(column), dtype=bool)
    bad = np.zeros(len(column), dtype=bool)
    if pa.types.is_dictionary(kind):
        coded = _coded_categories(column)
        if coded is not None:
            return coded, bad, missing
        return _categorical(column.cast(kind.value_type))
    if pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return pa.array(_category_words(column, missing), pa.string()), bad, missing
    strings = _strings(column)
    if strings is None:  # no category can be read from it: every value is bad
        return pa.repeat(pa.scalar(MISSING_CATEGORY), len(column)), ~missing, missing
    if missing.any():
        strings = pc.fill_null(strings, MISSING_CATEGORY)
    return strings, bad, missing


def _coded_categories(column: pa.DictionaryArray) -> pa.DictionaryArray | None:
    """A dictionary of text kept a dictionary (``__missing__`` added as one more value
    for the missing ones), or ``None`` when its values are not plain text."""
    values = column.dictionary
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return None
    if values.null_count:
        return None
    indices = column.indices
    if indices.null_count:
        extra = pa.array([MISSING_CATEGORY], values.type)
        indices = pc.fill_null(indices, pa.scalar(len(values), indices.type))
        values = pa.concat_arrays([values, extra])
    return pa.DictionaryArray.from_arrays(indices, values)


def _category_words(column: pa.Array, missing: npt.NDArray[np.bool_]) -> npt.NDArray[np.object_]:
    """Floats and booleans as the adapter writes them: ``3`` for 3.0, ``true``/``false``
    (``missing`` gains the NaNs)."""
    if pa.types.is_boolean(column.type):
        flags = np.asarray(pc.fill_null(column, False), dtype=bool)
        text = np.where(flags, "true", "false").astype(object)
    else:
        floats = _to_numpy_float(column)
        missing |= np.isnan(floats)
        whole = np.isfinite(floats) & (floats == np.round(floats))
        text = np.empty(len(floats), dtype=object)
        text[whole] = floats[whole].astype(np.int64).astype(str).astype(object)
        rest = ~whole & ~missing
        text[rest] = [str(float(v)) for v in floats[rest]]
    text[missing] = MISSING_CATEGORY
    return text


def _datetime(
    column: pa.Array,
) -> tuple[dict[str, npt.NDArray[np.float64]], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    seconds, bad = _seconds(column)
    missing = ~np.asarray(pc.is_valid(seconds), dtype=bool) & ~bad
    parts = {
        "year": _to_numpy_float(pc.year(seconds)),
        "month": _to_numpy_float(pc.month(seconds)),
        "dayofweek": _to_numpy_float(pc.day_of_week(seconds)),
        "hour": _to_numpy_float(pc.hour(seconds)),
    }
    epoch = _to_numpy_float(pc.cast(seconds, pa.int64()))
    parts["days_since_ref"] = (epoch - _REFERENCE_SECONDS) / 86400.0
    return parts, bad, missing


def _seconds(column: pa.Array) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
    """``column`` as naive UTC ``timestamp[s]``, and which values could not be read."""
    n = len(column)
    kind = column.type
    bad = np.zeros(n, dtype=bool)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        stamps, bad = _parse_stamps(column)
    elif pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        stamps = column
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            stamps = column.cast(pa.timestamp(kind.unit))  # Arrow keeps UTC underneath
    elif pa.types.is_null(kind):
        stamps = pa.nulls(n, pa.timestamp("s"))
    else:
        stamps = pa.nulls(n, pa.timestamp("s"))
        bad = np.asarray(pc.is_valid(column), dtype=bool)
    return pc.cast(stamps, pa.timestamp("s"), safe=False), bad


def _parse_stamps(column: pa.Array) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
    try:
        return pc.cast(column, pa.timestamp("s")), np.zeros(len(column), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    import pandas as pd  # only for a batch holding text that is not a plain ISO date

    texts = pd.Series(column.to_pylist(), dtype=object)
    # As the feature adapter reads them: zoned values as UTC, naive ones as given,
    # and a column whose values carry different offsets is accepted.
    parsed = pd.to_datetime(texts, errors="coerce", format="mixed", utc=True).dt.tz_localize(None)
    bad = (parsed.isna() & texts.notna()).to_numpy()
    # as numpy: a worker may have kept pyarrow from pandas (see _scorer.detach_pandas)
    stamps = parsed.to_numpy()
    return pa.array(stamps, type=pa.timestamp("s"), from_pandas=True), bad
