"""Reading a source (CSV, Parquet, JSON lines, a SQL query) as Arrow record batches.

Files are read as the ingest consumes them (see :mod:`modelyard.data._source`).
Each reader turns the library's error into one :class:`InvalidInputError` or
:class:`NotFoundError` that names the file and the problem, so the CLI can print a
single readable line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pyarrow as pa

from modelyard.data._source import BatchSource, ReadAgain, TableSource
from modelyard.errors import InvalidInputError, NotFoundError, StorageError

__all__ = ["SourceFormat", "detect_format", "open_file", "read_file", "read_sql"]

SourceFormat = Literal["csv", "parquet", "jsonl"]

_SUFFIXES: dict[str, SourceFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


def detect_format(path: Path, declared: str | None = None) -> SourceFormat:
    """The format named by ``declared`` or by the file's suffix (``.gz`` ignored).

    Raises:
        InvalidInputError: unknown format or suffix.
    """
    if declared:
        key = declared.lower().lstrip(".")
        fmt = _SUFFIXES.get(f".{key}")
        if fmt is None:
            raise InvalidInputError(
                f"unknown format {declared!r}: use csv, parquet or jsonl",
                details={"format": declared},
            )
        return fmt
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    raise InvalidInputError(
        f"cannot tell the format of {path.name}: name it .csv, .parquet or .jsonl, "
        "or pass --format",
        details={"file": str(path)},
    )


def open_file(
    path: str | Path,
    fmt: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> BatchSource:
    """A file as a source of record batches, read as the ingest consumes them.

    Raises:
        NotFoundError: the file does not exist.
        InvalidInputError: a directory, an empty file, or an unknown format (what
            is wrong inside the file is raised while its batches are read).
    """
    source = Path(path)
    if not source.exists():
        raise NotFoundError(f"file not found: {source}", details={"file": str(source)})
    if source.is_dir():
        raise InvalidInputError(
            f"{source} is a directory, not a file", details={"file": str(source)}
        )
    if source.stat().st_size == 0:
        raise InvalidInputError(f"file {source} is empty", details={"file": str(source)})
    kind = detect_format(source, fmt)
    if kind == "csv":
        from modelyard.data._csv import CsvOptions, CsvSource

        return CsvSource(source, CsvOptions(delimiter=delimiter, encoding=encoding))
    if encoding is not None:
        raise InvalidInputError(
            f"--encoding applies to CSV files only, and {source.name} is {kind}",
            details={"file": str(source)},
        )
    if kind == "parquet":
        return _ParquetSource(source)
    return _JsonLinesSource(source)


def read_file(path: str | Path, fmt: str | None = None, delimiter: str | None = None) -> pa.Table:
    """Read a whole file into an Arrow table (for files known to be small).

    Raises:
        NotFoundError: the file does not exist.
        InvalidInputError: empty, malformed, or not of the stated format.
    """
    source = open_file(path, fmt, delimiter)
    while True:
        try:
            batches = list(source.batches())
        except ReadAgain:
            continue
        break
    table = pa.Table.from_batches(batches)
    if table.num_columns == 0:
        raise InvalidInputError(f"file {path} has no columns", details={"file": str(path)})
    return table


class _ParquetSource:
    """A Parquet file, a row group's worth of batches at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def batches(self) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(self.path)
            yielded = False
            for batch in parquet.iter_batches(batch_size=64 * 1024):
                yielded = True
                yield batch
            if not yielded:
                yield pa.RecordBatch.from_pylist([], schema=parquet.schema_arrow)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OSError) as exc:
            raise _unreadable(self.path, "parquet", exc) from exc


class _JsonLinesSource:
    """A JSON-lines file, streamed; read whole once if a later block changes a type.

    Arrow's streaming JSON reader fixes each column's type on the first block; a
    file whose later lines disagree is read again in one piece, where Arrow unifies
    the types of all blocks.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._whole = False

    def batches(self) -> Iterator[pa.RecordBatch]:
        import pyarrow.json as pj

        if self._whole:
            try:
                table = pj.read_json(self.path)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                raise _unreadable(self.path, "jsonl", exc) from exc
            yield from TableSource(table).batches()
            return
        try:
            reader = pj.open_json(self.path)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise _unreadable(self.path, "jsonl", exc) from exc
        yielded = False
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                if not yielded:
                    raise _unreadable(self.path, "jsonl", exc) from exc
                self._whole = True
                raise ReadAgain("read whole: a later block changes a column's type") from exc
            yielded = True
            yield batch
        if not yielded:
            yield pa.RecordBatch.from_pylist([], schema=reader.schema)


def _unreadable(path: Path, kind: str, exc: BaseException) -> InvalidInputError:
    return InvalidInputError(
        f"cannot read {path} as {kind}: {_first_line(exc)}",
        details={"file": str(path), "format": kind},
    )


def read_sql(query: str, url: str) -> pa.Table:
    """Run ``query`` on the database at ``url`` (any SQLAlchemy URL).

    Raises:
        ConfigurationError: the URL is malformed or has no driver.
        StorageError: the database cannot be reached.
        InvalidInputError: the query fails (unknown table, syntax error).
    """
    import pandas as pd
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    from modelyard.metadata import connect_engine, redact_url

    engine = connect_engine(url)
    try:
        with engine.connect() as connection:
            result = connection.execute(text(query))
            if not result.returns_rows:
                raise InvalidInputError(
                    "the SQL query returned no rows to ingest (is it a SELECT?)",
                    details={"query": query},
                )
            frame = pd.DataFrame.from_records(result.fetchall(), columns=list(result.keys()))
    except DBAPIError as exc:
        reason = _first_line(exc.orig) if exc.orig is not None else _first_line(exc)
        raise InvalidInputError(
            f"SQL query failed on {redact_url(url)}: {reason}",
            details={"query": query},
        ) from exc
    except SQLAlchemyError as exc:
        raise StorageError(f"SQL query failed on {redact_url(url)}: {_first_line(exc)}") from exc
    finally:
        engine.dispose()
    if frame.shape[1] == 0:
        raise InvalidInputError("SQL query returned no columns", details={"query": query})
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInputError(f"cannot convert the query result: {_first_line(exc)}") from exc


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
