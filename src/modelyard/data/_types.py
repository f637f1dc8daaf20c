"""The Arrow types a dataset version stores, and how other types become them.

Parquet written by pandas, Polars or Spark carries types that the schema, the
splits and the models downstream do not take: dictionaries (pandas ``category``),
all-null columns, decimals, nested values. Each source column is mapped here once,
when its schema is first seen, to a storable type, and every batch is converted to
that schema, so one ingest stores one schema whatever the batches looked like.

=======================  ==========================================================
source type              stored as
=======================  ==========================================================
dictionary<values=T>     T (the values; pandas ``category``)
null (no values at all)  string, all missing (inferred as an empty categorical)
decimal                  float64 (models read floats)
float16                  float32
time of day              string (``12:30:00``)
duration                 int64 in its own unit
binary                   string when its bytes are UTF-8 text, else refused
struct, list, map,       refused with the column's name and type: flatten or drop
union, ...               the column first
=======================  ==========================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.types as pat

from modelyard.errors import InvalidInputError

__all__ = ["conform_batch", "numpy_values", "storable_schema"]


def storable_schema(schema: pa.Schema, source: str) -> pa.Schema:
    """The schema a version stores for a source with ``schema``.

    Raises:
        InvalidInputError: a column of a nested or unknown type (the message names
            the column and its type).
    """
    return pa.schema(
        [pa.field(f.name, _storable(f.name, f.type, source), nullable=True) for f in schema]
    )


def _storable(name: str, kind: pa.DataType, source: str) -> pa.DataType:
    if isinstance(kind, pa.ExtensionType):
        return _storable(name, kind.storage_type, source)
    if pat.is_dictionary(kind):
        return _storable(name, kind.value_type, source)
    if pat.is_null(kind) or pat.is_binary(kind) or pat.is_large_binary(kind):
        return pa.string()
    if pat.is_fixed_size_binary(kind) or pat.is_binary_view(kind):
        return pa.string()
    if pat.is_string_view(kind):
        return pa.string()
    if pat.is_decimal(kind):
        return pa.float64()
    if pat.is_float16(kind):
        return pa.float32()
    if pat.is_time(kind):
        return pa.string()
    if pat.is_duration(kind):
        return pa.int64()
    if pat.is_run_end_encoded(kind):
        return _storable(name, kind.value_type, source)
    if (
        pat.is_boolean(kind)
        or pat.is_integer(kind)
        or pat.is_floating(kind)
        or pat.is_string(kind)
        or pat.is_large_string(kind)
        or pat.is_timestamp(kind)
        or pat.is_date(kind)
    ):
        return kind
    raise InvalidInputError(
        f"column {name!r} of {source} has type {kind}, which a dataset cannot hold "
        "(nested or unsupported values): flatten it into plain columns or drop it",
        details={"column": name, "type": str(kind)},
    )


def conform_batch(batch: pa.RecordBatch, schema: pa.Schema, source: str) -> pa.RecordBatch:
    """``batch`` converted column by column to ``schema`` (a :func:`storable_schema`).

    Raises:
        InvalidInputError: a value that does not convert (binary that is not UTF-8
            text), naming the column.
    """
    if batch.schema.equals(schema):
        return batch
    if batch.schema.names != schema.names:
        raise InvalidInputError(
            f"{source} changes its columns part-way: {batch.schema.names} after {schema.names}",
            details={"source": source},
        )
    arrays = [
        _conform(batch.column(i), target, schema.field(i).name, source)
        for i, target in enumerate(schema.types)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _conform(array: pa.Array, target: pa.DataType, name: str, source: str) -> pa.Array:
    if array.type == target:
        return array
    if isinstance(array, pa.ExtensionArray):
        array = array.storage
    if pat.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pat.is_run_end_encoded(array.type):
        import pyarrow.compute as pc

        array = pc.run_end_decode(array)
    if pat.is_null(array.type):
        return pa.nulls(len(array), target)
    try:
        return array.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInputError(
            f"column {name!r} of {source} ({array.type}) cannot be stored as {target}: {reason}",
            details={"column": name, "type": str(array.type)},
        ) from exc


def numpy_values(array: pa.Array) -> npt.NDArray[Any]:
    """The values of a numeric array without nulls, as NumPy sees its buffer (no copy).

    Dates, times and durations come as the integers they are stored as. Read from
    the buffer directly: Arrow's ``to_numpy`` and ``__array__`` import pandas (to
    look for pandas types), the largest import of an ingest that otherwise never
    uses it.
    """
    kind = array.type
    temporal = pat.is_timestamp(kind) or pat.is_date(kind) or pat.is_duration(kind)
    if not (pat.is_integer(kind) or pat.is_floating(kind) or temporal) or array.null_count:
        raise TypeError(f"numpy_values takes numbers without nulls, not {kind}")
    code = "f" if pat.is_floating(kind) else "u" if pat.is_unsigned_integer(kind) else "i"
    dtype = np.dtype(f"{code}{kind.bit_width // 8}")
    data = array.buffers()[1]
    if data is None or len(array) == 0:
        return np.empty(0, dtype)
    return np.frombuffer(data, dtype, count=len(array), offset=array.offset * dtype.itemsize)
