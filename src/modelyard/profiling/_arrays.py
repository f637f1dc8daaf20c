"""Arrow arrays to NumPy and back through their buffers.

PyArrow's own conversions (``to_numpy``, ``pa.array(ndarray)``) first check
whether the values are pandas objects, and that check imports pandas: a cost
the profile would pay for nothing, since it never builds a data frame. These
helpers read and write the fixed-width buffers directly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["codes", "floats", "indices", "null_flags"]


def _flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _fixed(array: pa.Array, dtype: type[np.generic]) -> npt.NDArray[Any]:
    """The values of a fixed-width array, copied out of its buffer (nulls: whatever is there)."""
    data = array.buffers()[1]
    width = np.dtype(dtype).itemsize
    if data is None or len(array) == 0:
        return np.zeros(len(array), dtype=dtype)
    return np.frombuffer(data, dtype=dtype, count=len(array), offset=array.offset * width).copy()


def _missing(array: pa.Array) -> npt.NDArray[np.bool_]:
    """True where the array holds a null (from its validity bitmap)."""
    bitmap = array.buffers()[0]
    if array.null_count == 0:
        return np.zeros(len(array), dtype=bool)
    if bitmap is None:  # every value is null (an array of the null type)
        return np.ones(len(array), dtype=bool)
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
    return ~bits[array.offset : array.offset + len(array)].astype(bool)


def floats(values: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.float64]:
    """Numbers (or booleans) as float64, NaN where missing."""
    array = pc.cast(_flat(values), pa.float64(), safe=False)
    out: npt.NDArray[np.float64] = _fixed(array, np.float64)
    out[_missing(array)] = np.nan
    return out


def codes(values: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """Each value's category code (0, 1, ... in order of appearance), -1 where missing."""
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    found = pc.cast(_flat(values).dictionary_encode().indices, pa.int64())
    out: npt.NDArray[np.int64] = _fixed(found, np.int64)
    out[_missing(found)] = -1
    return out


def null_flags(values: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.float64]:
    """1.0 where a value is missing, else 0.0."""
    return _missing(_flat(values)).astype(np.float64)


def indices(positions: npt.NDArray[np.int64]) -> pa.Array:
    """Row positions as an Arrow int64 array (for ``take``)."""
    contiguous = np.ascontiguousarray(positions, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(contiguous), [None, pa.py_buffer(contiguous)])
