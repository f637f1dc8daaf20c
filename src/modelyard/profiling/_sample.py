"""A uniform sample of a Parquet file's rows, drawn by position.

NumPy (seed 0) picks which row positions, without replacement; PyArrow reads
each row group that holds some of them once and keeps those rows. Text columns
can be read as dictionaries, so their values are never decoded into one string
per row. DuckDB's reservoir sample gives the same kind of sample, but it
decodes every text value and pushes every row through its reservoir, which made
the sample one of the profile's most expensive steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from modelyard.profiling._arrays import indices

__all__ = ["METHOD", "sample_rows"]

METHOD = "uniform sample of row positions without replacement, seed 0"


def sample_rows(
    path: Path, columns: Sequence[str], size: int, dictionary: Sequence[str] = ()
) -> pa.Table:
    """``size`` rows of ``columns`` in storage order (every row when the file is smaller).

    ``dictionary`` names text columns to read as dictionary arrays.
    """
    parquet = pq.ParquetFile(path, read_dictionary=list(dictionary) or None)
    names = list(columns)
    n_rows = parquet.metadata.num_rows
    if n_rows <= size:
        return parquet.read(columns=names)
    positions = np.sort(np.random.default_rng(0).choice(n_rows, size, replace=False))
    parts: list[pa.Table] = []
    start = 0
    for group in range(parquet.num_row_groups):
        count = parquet.metadata.row_group(group).num_rows
        low, high = np.searchsorted(positions, [start, start + count])
        if high > low:
            rows = parquet.read_row_group(group, columns=names)
            parts.append(rows.take(indices(positions[low:high] - start)))
        start += count
    return pa.concat_tables(parts)
