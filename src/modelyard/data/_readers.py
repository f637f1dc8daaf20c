"""Reading a source (CSV, Parquet, JSON lines, a SQL query) into an Arrow table.

Each reader turns the library's error into one :class:`InvalidInputError` or
:class:`NotFoundError` that names the file and the problem, so the CLI can print a
single readable line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa

from modelyard.errors import InvalidInputError, NotFoundError, StorageError

__all__ = ["SourceFormat", "detect_format", "read_file", "read_sql"]

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


@dataclass(frozen=True)
class _Source:
    path: Path
    fmt: SourceFormat


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


def read_file(path: str | Path, fmt: str | None = None, delimiter: str | None = None) -> pa.Table:
    """Read a whole file into an Arrow table.

    Raises:
        NotFoundError: the file does not exist.
        InvalidInputError: empty, malformed, or not of the stated format.
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
    try:
        if kind == "csv":
            table = _read_csv(source, delimiter)
        elif kind == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(source)
        else:
            import pyarrow.json as pj

            table = pj.read_json(source)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise InvalidInputError(
            f"cannot read {source} as {kind}: {_first_line(exc)}",
            details={"file": str(source), "format": kind},
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"cannot read {source} as {kind}: not UTF-8 text ({exc.reason})",
            details={"file": str(source), "format": kind},
        ) from exc
    if table.num_columns == 0:
        raise InvalidInputError(f"file {source} has no columns", details={"file": str(source)})
    return table


def _read_csv(source: Path, delimiter: str | None) -> pa.Table:
    import pyarrow.csv as pc

    parse = pc.ParseOptions(delimiter=delimiter or ("\t" if source.suffix == ".tsv" else ","))
    convert = pc.ConvertOptions(strings_can_be_null=True)
    return pc.read_csv(source, parse_options=parse, convert_options=convert)


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
