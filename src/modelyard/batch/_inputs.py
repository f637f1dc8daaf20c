"""Inputs of a batch job: resolve files, folders and globs, then plan partitions.

Partitions are planned once, up front, and stored with the job, so a resumed job
processes exactly the same units as the first attempt:

- Parquet: runs of consecutive row groups of about ``rows_per_partition`` rows;
- uncompressed CSV and JSON lines larger than ``bytes_per_partition``: byte ranges
  cut at line starts (like SageMaker's ``SplitType=Line``, a quoted field must not
  hold a line break);
- gzip-compressed and small files: the whole file.

CSV and JSON-lines column types are inferred once, from the first block of each
file, and stored with the plan, so every partition of a file reads the same
schema. The model's input columns are read from CSV as text and checked row by
row, so one bad value (or a line with the wrong number of fields) rejects one
row, not the partition. Each file's size and modification stamp are stored too
(:func:`input_stamp`): a file changed since planning is not resumed.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa

from modelyard.errors import InvalidInputError, NotFoundError

__all__ = [
    "InputFile",
    "PlannedPartition",
    "input_stamp",
    "open_input",
    "plan_partitions",
    "resolve_inputs",
]

_GLOB_CHARS = set("*?[")
_INFER_BYTES = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """One input file: its fsspec URL, format, compression and size in bytes."""

    url: str
    fmt: str
    compression: str | None
    size: int


@dataclass(frozen=True)
class PlannedPartition:
    """A unit of work: its key and the JSON spec the worker reads it from."""

    key: str
    spec: dict[str, Any]
    rows: int | None


def _detect_format(path: Path) -> str:
    # imported here: the data package imports pandas, which batch workers do not need
    from modelyard.data._readers import detect_format

    return detect_format(path)


def _fs(url: str) -> tuple[Any, str]:
    from fsspec.core import url_to_fs

    try:
        fs, path = url_to_fs(url)
    except (ValueError, ImportError) as exc:
        raise InvalidInputError(f"cannot open {url}: {exc}", details={"input": url}) from exc
    return fs, str(path)


def resolve_inputs(inputs: str | list[str]) -> list[InputFile]:
    """The files named by a path, folder or glob (or a list of them), local or fsspec URL.

    Raises:
        NotFoundError: a path does not exist or a glob matches nothing.
        InvalidInputError: a folder holds no readable file, or a file's format is unknown.
    """
    found: dict[str, InputFile] = {}
    for item in [inputs] if isinstance(inputs, str) else list(inputs):
        for file in _resolve_one(str(item)):
            found.setdefault(file.url, file)  # named twice (a file and a glob): scored once
    if not found:
        raise NotFoundError("no input files given")
    return list(found.values())


def _resolve_one(text: str) -> list[InputFile]:
    fs, path = _fs(text)
    if _GLOB_CHARS & set(path):
        paths = sorted(p for p in fs.glob(path) if fs.isfile(p))
        if not paths:
            raise NotFoundError(f"no file matches {text}", details={"input": text})
    elif fs.isdir(path):
        root = PurePosixPath(path)
        paths = sorted(
            p for p in fs.find(path) if _visible(PurePosixPath(p), root) and _known_suffix(p)
        )
        if not paths:
            raise InvalidInputError(
                f"folder {text} holds no .csv, .parquet or .jsonl file", details={"input": text}
            )
    elif fs.isfile(path):
        paths = [path]
    else:
        raise NotFoundError(f"input not found: {text}", details={"input": text})
    files = []
    for item in paths:
        fmt = _detect_format(Path(item))
        compression = "gzip" if item.lower().endswith(".gz") else None
        size = int(fs.size(item) or 0)
        if size == 0:
            raise InvalidInputError(f"input file {item} is empty", details={"file": item})
        files.append(InputFile(fs.unstrip_protocol(item), fmt, compression, size))
    return files


def _visible(path: PurePosixPath, root: PurePosixPath) -> bool:
    """Whether a file under a folder is data: no part of its path below the folder
    starts with ``.`` or ``_`` (hidden files, ``_SUCCESS``, a batch output's
    ``_errors/``, temporary files), as Arrow and Spark datasets read folders."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = (path.name,)
    return not any(part.startswith((".", "_")) for part in parts)


def input_stamp(url: str) -> dict[str, Any]:
    """What identifies a version of an input file: its size, and its modification
    time or entity tag where the file system has one. Partitions are byte ranges and
    row groups of the file as planned: a file changed since then cannot be resumed."""
    fs, path = _fs(url)
    info = fs.info(path)
    stamp: dict[str, Any] = {"size": int(info.get("size") or 0)}
    for key in ("mtime", "ETag", "etag", "LastModified", "last_modified"):
        if info.get(key) is not None:
            stamp[key] = str(info[key])
    return stamp


def _known_suffix(path: str) -> bool:
    try:
        _detect_format(Path(path))
    except InvalidInputError:
        return False
    return True


def open_input(url: str, compression: str | None = None) -> Any:
    """A binary file object for ``url`` (decompressing when asked)."""
    fs, path = _fs(url)
    return fs.open(path, "rb", compression=compression)


def plan_partitions(
    files: list[InputFile], rows_per_partition: int, bytes_per_partition: int
) -> tuple[list[PlannedPartition], dict[str, list[str]]]:
    """Cut the input files into partitions (see the module docstring).

    Returns:
        the partitions, and the column names of each file.

    Raises:
        InvalidInputError: a file cannot be read as its format.
    """
    planned: list[PlannedPartition] = []
    columns: dict[str, list[str]] = {}
    for index, file in enumerate(files):
        parts: list[tuple[dict[str, Any], int | None]]
        try:
            if file.fmt == "parquet":
                parts, columns[file.url] = _plan_parquet(file, rows_per_partition)
            else:
                parts, columns[file.url] = _plan_text(file, bytes_per_partition)
        # EOFError: a truncated gzip file (Click would print a bare 'Aborted!')
        except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, EOFError, UnicodeDecodeError) as exc:
            raise InvalidInputError(
                f"cannot read {file.url} as {file.fmt}: {_first_line(exc)}",
                details={"file": file.url},
            ) from exc
        names = columns[file.url]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:  # a row could not say which one it means (nor could --keep)
            raise InvalidInputError(
                f"input file {file.url} has more than one column named {', '.join(twice)}",
                details={"file": file.url, "columns": twice},
            )
        for number, (spec, rows) in enumerate(parts):
            planned.append(PlannedPartition(f"{index:05d}-{number:05d}", spec, rows))
    return planned, columns


def _plan_parquet(
    file: InputFile, rows_per_partition: int
) -> tuple[list[tuple[dict[str, Any], int | None]], list[str]]:
    import pyarrow.parquet as pq

    with open_input(file.url, file.compression) as handle:
        parquet = pq.ParquetFile(handle)
        metadata, names = parquet.metadata, list(parquet.schema_arrow.names)
    parts: list[tuple[dict[str, Any], int | None]] = []
    start, rows, offset = 0, 0, 0
    for group in range(metadata.num_row_groups):
        rows += metadata.row_group(group).num_rows
        if rows >= rows_per_partition or group == metadata.num_row_groups - 1:
            spec = _spec(file, row_groups=[start, group + 1], first_row=offset)
            parts.append((spec, rows))
            offset += rows
            start, rows = group + 1, 0
    return parts, names


def _plan_text(
    file: InputFile, bytes_per_partition: int
) -> tuple[list[tuple[dict[str, Any], int | None]], list[str]]:
    if file.fmt == "csv":
        header = _header_only(file)
        if header is not None:  # no rows: nothing to score, but the columns are known
            return [], list(header.names)
    schema = _infer_schema(file)
    encoded = base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")
    if file.compression is not None or file.size <= bytes_per_partition:
        return [(_spec(file, schema=encoded), None)], list(schema.names)
    with open_input(file.url) as handle:
        header_end = 0
        while file.fmt == "csv":  # past the header, and the empty lines Arrow skips before it
            line = handle.readline()
            header_end += len(line)
            if not line or line.strip(b"\r\n"):
                break
        cuts = [header_end]
        target = header_end + bytes_per_partition
        while target < file.size:
            handle.seek(target)
            handle.readline()  # move to the start of the next line
            position = handle.tell()
            if position >= file.size:
                break
            if position > cuts[-1]:
                cuts.append(position)
            target = position + bytes_per_partition
    ends = [*cuts[1:], file.size]
    parts: list[tuple[dict[str, Any], int | None]] = [
        (_spec(file, schema=encoded, byte_range=[start, end]), None)
        for start, end in zip(cuts, ends, strict=True)
    ]
    return parts, list(schema.names)


def _header_only(file: InputFile) -> pa.Schema | None:
    """The columns of a CSV file holding a header line and nothing else, else ``None``.

    Arrow cannot open such a file when its header has no final newline, and a
    partition of it would hold no row anyway.
    """
    import io

    import pyarrow.csv as pc

    with open_input(file.url, file.compression) as handle:
        header = handle.readline()
        while header and not header.strip(b"\r\n"):  # empty lines before the header
            header = handle.readline()
        if handle.read(1) or not header:
            return None
    if not header.endswith(b"\n"):
        header += b"\n"
    schema: pa.Schema = pc.open_csv(io.BytesIO(header)).schema
    return schema


def _infer_schema(file: InputFile) -> pa.Schema:
    """The column types of a CSV / JSON-lines file, from its first block."""
    with open_input(file.url, file.compression) as handle:
        if file.fmt == "csv":
            import pyarrow.csv as pc

            reader = pc.open_csv(
                handle,
                read_options=pc.ReadOptions(block_size=_INFER_BYTES),
                # a malformed line is a rejected row when scored, not an unreadable file
                parse_options=pc.ParseOptions(invalid_row_handler=lambda _row: "skip"),
                convert_options=pc.ConvertOptions(strings_can_be_null=True),
            )
        else:
            import pyarrow.json as pj

            reader = pj.open_json(handle, read_options=pj.ReadOptions(block_size=_INFER_BYTES))
        schema: pa.Schema = reader.schema
    if len(schema) == 0:
        raise InvalidInputError(f"input file {file.url} has no columns", details={"file": file.url})
    return schema


def _spec(file: InputFile, **extra: Any) -> dict[str, Any]:
    return {
        "file": file.url,
        "format": file.fmt,
        "compression": file.compression,
        **{key: value for key, value in extra.items() if value is not None},
    }


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
