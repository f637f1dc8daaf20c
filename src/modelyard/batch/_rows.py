"""Check a record batch's rows against a model's signature, and adapt the good ones.

The rules are the request/row checker's (:func:`modelyard.features.check_column`),
the ones the gateway applies to a request: a value its column's kind cannot read,
a number float32 cannot hold, or a missing value where training saw none rejects
its row, with the reason, instead of failing the batch. A column the batch does
not have rejects every row.

Arrow columns reach the checker as numpy through pyarrow's public conversions:
typed columns with ``to_numpy``, and text, bytes and dictionary columns through
their dictionary (``dictionary_encode``), so each distinct value is read once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from modelyard.features import ColumnCheck, InputAdapter, InputField, check_column

__all__ = ["CheckedRows", "check_rows", "reading"]


@dataclass
class CheckedRows:
    """A batch split into rows the model can read and rows it cannot.

    Attributes:
        good: boolean mask of usable rows.
        reasons: why each rejected row was rejected (``None`` for good rows).
        adapted: the good rows' columns as :meth:`InputAdapter.adapt` gives them,
            ready for :meth:`modelyard.features.FittedRecipe.apply`.
    """

    good: npt.NDArray[np.bool_]
    reasons: npt.NDArray[np.object_]
    adapted: dict[str, npt.NDArray[Any]]


def check_rows(
    batch: pa.RecordBatch, inputs: Sequence[Mapping[str, Any] | InputField]
) -> CheckedRows:
    """Check ``batch`` against the signature ``inputs``; adapt the good rows."""
    n = batch.num_rows
    reasons = np.full(n, None, dtype=object)
    rejected = np.zeros(n, dtype=bool)
    fields = [f if isinstance(f, InputField) else InputField.from_dict(dict(f)) for f in inputs]
    names = set(batch.schema.names)
    values: dict[str, npt.NDArray[Any]] = {}
    for field in fields:
        if field.name not in names:
            _reject(reasons, rejected, np.ones(n, dtype=bool), f"missing column {field.name!r}")
            values[field.name] = check_column(field, np.full(n, None, dtype=object)).values
            continue
        checked = _check(field, batch.column(field.name))
        if checked.refused is not None and checked.reasons is not None:
            _reject(reasons, rejected, checked.refused, checked.reasons)
        values[field.name] = checked.values
    good = ~rejected
    if rejected.any():
        values = {name: column[good] for name, column in values.items()}
    adapter = InputAdapter(
        **{
            kind: tuple(f.name for f in fields if f.kind == kind)
            for kind in ("numeric", "boolean", "categorical", "datetime")
        }
    )
    return CheckedRows(good, reasons, adapter.shape(values))


def reading(column: pa.Array, kind: str) -> pa.Array:
    """How the model reads ``column`` of ``kind``, as Arrow: ``float64``, ``bool``,
    ``string`` or naive UTC ``timestamp[s]`` (null where missing or unreadable).

    A CSV column's type is guessed from the first block of its file, and a later
    value the model accepts may not fit that guess (``12.5`` after whole numbers, a
    category ``A`` after digits): batch output keeps the model's reading instead, so
    every part of a job has the same schema whatever the values.
    """
    values = _check(InputField("column", kind), column).values
    if kind == "numeric":
        return pa.array(values, pa.float64(), from_pandas=True)
    if kind == "boolean":
        return pa.array(values == 1.0, pa.bool_(), mask=np.isnan(values))
    if kind == "categorical":
        return pa.array(values, pa.string())
    return pa.array(values, pa.timestamp("s"), from_pandas=True)


def _check(field: InputField, column: pa.Array | pa.ChunkedArray) -> ColumnCheck:
    """One Arrow column through the checker, as numpy."""
    kind = column.type
    if pa.types.is_dictionary(kind) or _is_text(kind):
        coded = column if pa.types.is_dictionary(kind) else pc.dictionary_encode(column)
        if isinstance(coded, pa.ChunkedArray):
            coded = coded.combine_chunks()
        distinct = coded.dictionary.to_numpy(zero_copy_only=False)
        codes = pc.fill_null(coded.indices, -1).to_numpy(zero_copy_only=False)
        return check_column(field, distinct, codes=np.asarray(codes, dtype=np.intp))
    if field.kind == "boolean" and pa.types.is_boolean(kind):
        # as 0/1 with NaN for nulls: numpy's bool has no missing value
        column = pc.cast(column, pa.float64())
    return check_column(field, column.to_numpy(zero_copy_only=False))


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


def _reject(
    reasons: npt.NDArray[np.object_],
    rejected: npt.NDArray[np.bool_],
    mask: npt.NDArray[np.bool_],
    reason: str | npt.NDArray[np.object_],
) -> None:
    """Give ``reason`` to rows in ``mask`` not rejected yet (the first reason wins)."""
    target = mask & ~rejected
    if target.any():
        reasons[target] = reason if isinstance(reason, str) else reason[target]
        rejected |= target
