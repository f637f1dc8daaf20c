"""Where an ingest's rows come from: a source of Arrow record batches.

Every source (a CSV, Parquet or JSON-lines file, a SQL result, an in-memory table)
is read the same way, one batch at a time, so an ingest holds one batch in memory
and never the whole dataset.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pyarrow as pa

__all__ = ["BatchSource", "ReadAgain", "TableSource"]


class ReadAgain(Exception):  # noqa: N818 - a signal to the reader's caller, not an error
    """The source learnt something (a wider column type) and must be read again.

    The caller discards every batch of the read in progress and calls
    :meth:`BatchSource.batches` again. A source raises it only a bounded number of
    times, each time after changing what it will do.
    """


class BatchSource(Protocol):
    """Rows as record batches of one schema.

    Contract: :meth:`batches` can be called again after it raised
    :class:`ReadAgain`, and then yields the rows from the first one; every other
    failure is a :class:`~modelyard.errors.ModelyardError` naming the source and
    what is wrong with it.
    """

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The rows, in order."""
        ...


class TableSource:
    """An Arrow table already in memory (a SQL result, the SDK's ``ingest_table``)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The table's batches; one empty batch for a table without rows (its schema)."""
        batches = self.table.to_batches()
        if not batches:
            yield pa.RecordBatch.from_pylist([], schema=self.table.schema)
        yield from batches
