"""The streaming part of an ingest: rows to a staged Parquet file, then its schema.

Batches flow from a source through the user's declared casts and the storable
types into a Parquet writer, a row group at a time, so memory holds a few batches
whatever the size of the source; a thread writes each row group while the source
reads the next. The rows written are checked against the rows read. The schema is
then inferred column by column: from the batches themselves when they fit in
:data:`_KEPT_BYTES` (kept as they are, no copy), else read back from the staged
file a column or two at a time (all a column's statistics need).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from modelyard.data._casts import BatchCaster
from modelyard.data._infer import infer_columns
from modelyard.data._schema import ColumnSchema
from modelyard.data._source import BatchSource, ReadAgain
from modelyard.data._types import conform_batch, storable_schema
from modelyard.errors import IntegrityError, InvalidInputError

__all__ = ["PARQUET_OPTIONS", "Staged", "stage"]

# Snappy: a third less CPU than zstd to write and to read back, for files about a
# fifth larger; an ingest spends more of its time compressing than storing.
PARQUET_OPTIONS: dict[str, Any] = {"compression": "snappy", "write_statistics": True}
# A row group is written once this many rows (or bytes) are pending: large enough
# for good compression and fast column reads, small enough to bound memory.
_ROW_GROUP_ROWS = 256 * 1024
_ROW_GROUP_BYTES = 32 << 20
# Columns whose statistics are computed at the same time (each is held whole).
_INFERENCE_THREADS = 2
# The batches of a source up to this size are kept for the schema's statistics
# instead of being read back from the staged file. With the writer's and the
# reader's buffers, the peak stays well under the 1 GiB an ingest is allowed.
_KEPT_BYTES = 384 << 20


@dataclass(frozen=True)
class Staged:
    """A source's rows written to ``path`` as Parquet, with their count and schema."""

    path: Path
    n_rows: int
    schema: pa.Schema
    kept: pa.Table | None = None
    """The staged rows still in memory (a small source), or ``None``."""

    def read(self, columns: list[str]) -> pa.Table:
        """Some columns of the staged rows (every row).

        Read a row group at a time without pre-buffering: the coalesced
        pre-buffered read held about twice the column in I/O buffers.
        """
        if self.kept is not None:
            return self.kept.select(columns)
        parquet = pq.ParquetFile(self.path, pre_buffer=False)
        return parquet.read(columns=columns, use_threads=False)

    def infer(self) -> list[ColumnSchema]:
        """Every column's inferred schema, computed a column or two at a time."""
        columns = infer_columns(
            self.schema.names,
            lambda name: self.read([name]).column(0),
            self.n_rows,
            max_workers=_INFERENCE_THREADS,
        )
        pa.default_memory_pool().release_unused()
        return columns


def stage(source: BatchSource, caster: BatchCaster, path: Path, label: str) -> Staged:
    """Write every row of ``source`` to ``path`` as Parquet.

    Raises:
        InvalidInputError: the source is malformed, has no rows or columns, a
            column has an unstorable type, or a declared type does not convert.
    """
    while True:
        try:
            return _write(source.batches(), caster, path, label)
        except ReadAgain:
            path.unlink(missing_ok=True)


def _write(
    batches: Iterator[pa.RecordBatch], caster: BatchCaster, path: Path, label: str
) -> Staged:
    schema: pa.Schema | None = None
    writer: _RowGroupWriter | None = None
    pending: list[pa.RecordBatch] = []
    kept: list[pa.RecordBatch] | None = []
    pending_rows = pending_bytes = kept_bytes = rows = 0
    try:
        for batch in batches:
            if schema is None:
                check_columns(batch.schema.names, label)
                caster.check_columns(batch.schema.names)
                converted = caster(batch, rows)
                schema = storable_schema(converted.schema, label)
                writer = _RowGroupWriter(path, schema)
            else:
                converted = caster(batch, rows)
            converted = conform_batch(converted, schema, label)
            rows += converted.num_rows
            if converted.num_rows:
                pending.append(converted)
                pending_rows += converted.num_rows
                pending_bytes += converted.nbytes
                if kept is not None:
                    kept.append(converted)
                    kept_bytes += converted.nbytes
                    if kept_bytes > _KEPT_BYTES:
                        kept = None  # too large to keep: read back from the file
            if pending_rows >= _ROW_GROUP_ROWS or pending_bytes >= _ROW_GROUP_BYTES:
                assert writer is not None
                writer.write(pa.Table.from_batches(pending, schema))
                pending, pending_rows, pending_bytes = [], 0, 0
        if writer is not None and pending:
            writer.write(pa.Table.from_batches(pending, schema))
            pending = []
    finally:
        if writer is not None:
            writer.close()
    if kept is None:
        # Arrow's allocator keeps freed blocks for reuse; hand them back before the
        # column-by-column inference so the two phases' peaks do not add up.
        pa.default_memory_pool().release_unused()
    if schema is None or rows == 0:
        raise InvalidInputError(f"{label} has no rows", details={"source": label})
    written = pq.read_metadata(path).num_rows
    if written != rows:
        raise IntegrityError(
            f"ingest of {label}: {rows:,} rows read but {written:,} written",
            details={"source": label, "read": rows, "written": written},
        )
    table = pa.Table.from_batches(kept, schema) if kept is not None else None
    return Staged(path=path, n_rows=rows, schema=schema, kept=table)


class _RowGroupWriter:
    """A Parquet writer that writes each row group on a thread of its own.

    Arrow's writer releases the GIL, so the source parses the next row group while
    this one is encoded; one row group at most waits, which bounds memory.
    """

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(
            path, schema, use_dictionary=_dictionary_columns(schema), **PARQUET_OPTIONS
        )
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="modelyard-parquet")
        self._writing: Future[None] | None = None

    def write(self, table: pa.Table) -> None:
        """Write ``table`` as a row group once the one before it is written."""
        self._wait()
        self._writing = self._pool.submit(self._writer.write_table, table)

    def close(self) -> None:
        """Finish the file; raise what a write raised."""
        try:
            self._wait()
        finally:
            self._pool.shutdown(wait=True)
            self._writer.close()

    def _wait(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns worth dictionary-encoding: text (floats and ids rarely repeat, and the
    writer would build a dictionary for each only to give it up)."""
    return [
        f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]


def check_columns(names: list[str], label: str) -> None:
    """Refuse a source without columns, or with a blank or repeated column name.

    Raises:
        InvalidInputError: naming the problem and the source.
    """
    if not names:
        raise InvalidInputError(f"{label} has no columns", details={"source": label})
    blank = [index for index, column in enumerate(names) if not str(column).strip()]
    if blank:
        raise InvalidInputError(
            f"{label} has a column without a name (position {blank[0] + 1})",
            details={"source": label},
        )
    duplicates = sorted({column for column in names if names.count(column) > 1})
    if duplicates:
        raise InvalidInputError(
            f"{label} has duplicate column names: {', '.join(duplicates)}",
            details={"columns": duplicates},
        )
