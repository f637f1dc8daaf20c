"""One partition, in a worker: stream record batches in, predictions out.

Memory stays bounded by one record batch (and one Parquet row group): the
partition is never held whole. Every file is written under a temporary name and
renamed into place when complete; the driver records the partition only after
the rename, so a part file that exists but is not recorded is simply redone.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from modelyard.batch._capture import capture_path, capture_table, drop_earlier_capture
from modelyard.batch._inputs import open_input
from modelyard.batch._rows import CheckedRows, check_rows, reading
from modelyard.batch._scorer import ModelSource, load_count, scorer_for
from modelyard.errors import InvalidInputError

__all__ = ["PartitionResult", "PartitionTask", "score_partition"]

_CSV_BLOCK = 4 << 20
_CSV_BLANK = b"\r\n"  # empty lines (a leading space may be part of a CSV value)
_JSON_BLANK = b" \t\r\n"


@dataclass(frozen=True)
class PartitionTask:
    """Everything a worker needs to process one partition (picklable, self-contained)."""

    job_id: str
    key: str
    spec: dict[str, Any]
    model: ModelSource
    output: str
    output_format: str
    keep: list[str] | None
    batch_rows: int = 65_536
    capture: str | None = None
    capture_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PartitionResult:
    """What a worker produced for one partition, reported to the driver.

    Attributes:
        key: the partition's key.
        rows_in, rows_out, rows_rejected: rows read, scored, and sent to ``_errors/``.
        output, checksum: the part file's URL and sha256 (``None``: no row scored).
        errors, errors_checksum: the rejected rows' file and sha256, if any.
        capture: the captured traffic's file, if the job captures.
        seconds: the partition's time in the worker.
        flavor: the flavor that scored it.
        worker: the worker's process id.
        model_loads: how many times that worker loaded the model (1 when reused).
    """

    key: str
    rows_in: int
    rows_out: int
    rows_rejected: int
    output: str | None
    checksum: str | None
    errors: str | None
    errors_checksum: str | None
    capture: str | None
    seconds: float
    flavor: str
    worker: int
    model_loads: int

    def details(self) -> dict[str, Any]:
        """What the job store keeps beside the partition's counts and output."""
        return {
            "errors": self.errors,
            "errors_checksum": self.errors_checksum,
            "capture": self.capture,
            "seconds": self.seconds,
            "flavor": self.flavor,
            "worker": self.worker,
            "model_loads": self.model_loads,
        }


def score_partition(task: PartitionTask) -> PartitionResult:
    """Score one partition and put its output files in place; return what it produced."""
    started = time.perf_counter()
    scorer = scorer_for(task.model)
    outputs = _Sink(
        task.output,
        f"part-{task.key}.{task.output_format}",
        task.output_format,
        dictionary=scorer.repeated_columns,
    )
    errors = _Sink(task.output, f"_errors/part-{task.key}.parquet", "parquet")
    endpoint = task.capture_name or f"batch-{task.job_id[:12]}"
    if task.capture is not None:
        drop_earlier_capture(task.capture, endpoint, task.job_id, task.key)
    capture = (
        _Sink(task.capture, capture_path(endpoint, task.job_id, task.key), "parquet")
        if task.capture is not None
        else None
    )
    rows_in = rows_out = rejected = 0
    readings = _csv_readings(task.spec, scorer.inputs)
    malformed: list[str] = []
    try:
        coded = _coded(task, scorer.inputs)
        for batch in _read(task, set(scorer.input_names), malformed, coded):
            keep = _keep_columns(task, batch)
            checked = check_rows(batch, scorer.inputs)
            good = pa.array(checked.good)
            n_good = int(checked.good.sum())
            if n_good:
                rows = batch.filter(good) if n_good < batch.num_rows else batch
                rows = _as_read(rows, readings)
                scored = scorer.score(checked, n_good)
                outputs.write(_output_batch(rows, keep, scored))
                if capture is not None:
                    table = capture_table(
                        rows,
                        scorer.input_names,
                        scored,
                        endpoint=endpoint,
                        model=scorer.ref,
                        job_id=task.job_id,
                        key=task.key,
                        first_row=rows_in,
                    )
                    capture.write(table)
            if n_good < batch.num_rows:
                errors.write(_error_batch(batch, checked, task, rows_in))
            rows_in += batch.num_rows
            rows_out += n_good
            rejected += batch.num_rows - n_good
            if malformed:
                errors.write(_malformed_batch(malformed, task))
                rows_in += len(malformed)
                rejected += len(malformed)
                malformed.clear()
        if malformed:  # skipped after the last batch
            errors.write(_malformed_batch(malformed, task))
            rows_in += len(malformed)
            rejected += len(malformed)
        output = outputs.commit()
        error_output = errors.commit()
        capture_output = capture.commit() if capture is not None else None
    except BaseException:
        for sink in (outputs, errors, capture):
            if sink is not None:
                sink.abort()
        raise
    return PartitionResult(
        key=task.key,
        rows_in=rows_in,
        rows_out=rows_out,
        rows_rejected=rejected,
        output=output[0] if output else None,
        checksum=output[1] if output else None,
        errors=error_output[0] if error_output else None,
        errors_checksum=error_output[1] if error_output else None,
        capture=capture_output[0] if capture_output else None,
        seconds=time.perf_counter() - started,
        flavor=scorer.flavor,
        worker=os.getpid(),
        model_loads=load_count(task.model),  # in this worker process
    )


def _csv_readings(spec: dict[str, Any], inputs: list[dict[str, Any]]) -> dict[str, str]:
    """The model columns of a CSV partition kept as the model reads them: ``name: kind``.

    Their planned types are guesses from the file's first block that later values
    the model accepts may not fit (see :func:`~modelyard.batch._rows.reading`); a
    column guessed as text stays text.
    """
    if spec["format"] != "csv":
        return {}
    planned = _schema(spec)
    return {
        item["name"]: item["kind"]
        for item in inputs
        if item["name"] in planned.names
        and not pa.types.is_string(planned.field(item["name"]).type)
        and not pa.types.is_large_string(planned.field(item["name"]).type)
    }


def _as_read(rows: pa.RecordBatch, readings: dict[str, str]) -> pa.RecordBatch:
    arrays = []
    for name in rows.schema.names:
        column = rows.column(name)
        if name in readings:
            column = reading(column, readings[name])
        elif pa.types.is_binary(column.type):
            # a model column read as bytes: the good rows' bytes are UTF-8 text
            column = column.cast(pa.string())
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=rows.schema.names)


def _keep_columns(task: PartitionTask, batch: pa.RecordBatch) -> list[str]:
    if task.keep is None:
        return list(batch.schema.names)
    missing = [name for name in task.keep if name not in batch.schema.names]
    if missing:
        raise InvalidInputError(
            f"cannot keep column(s) {', '.join(missing)}: not in {task.spec['file']}",
            details={"columns": missing, "file": task.spec["file"]},
        )
    return task.keep


def _output_batch(rows: pa.RecordBatch, keep: list[str], scored: dict[str, Any]) -> pa.Table:
    names = [name for name in keep if name not in scored]
    arrays = [rows.column(name) for name in names]
    return pa.table([*arrays, *scored.values()], names=[*names, *scored])


def _error_batch(
    batch: pa.RecordBatch, checked: CheckedRows, task: PartitionTask, offset: int
) -> pa.Table:
    bad = np.flatnonzero(~checked.good)
    reasons = checked.reasons
    rows = batch.take(pa.array(bad))
    first_row = task.spec.get("first_row")
    columns: dict[str, Any] = {
        "_source": pa.repeat(pa.scalar(task.spec["file"]), len(bad)),
        "_partition": pa.repeat(pa.scalar(task.key), len(bad)),
        "_row": pa.array(bad + offset + (first_row or 0), type=pa.int64()),
        "_reason": pa.array(reasons[bad].tolist(), type=pa.string()),
    }
    for name in rows.schema.names:
        columns[name] = _as_text(rows.column(name))
    return pa.table(columns)


def _malformed_batch(reasons: list[str], task: PartitionTask) -> pa.Table:
    """Rejected lines that had no row to show: their reason holds the line's text."""
    n = len(reasons)
    columns: dict[str, Any] = {
        "_source": pa.repeat(pa.scalar(task.spec["file"]), n),
        "_partition": pa.repeat(pa.scalar(task.key), n),
        "_row": pa.nulls(n, pa.int64()),
        "_reason": pa.array(reasons, type=pa.string()),
    }
    for name in _schema(task.spec).names:
        columns[name] = pa.nulls(n, pa.string())
    return pa.table(columns)


def _as_text(column: pa.Array) -> pa.Array:
    """A rejected row's value as text, whatever its type (so any row can be kept)."""
    try:
        return column.cast(pa.string(), safe=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = column.to_pylist()
        return pa.array([None if v is None else str(v) for v in values], pa.string())


# -- reading ---------------------------------------------------------------------


def _read(
    task: PartitionTask,
    input_names: set[str],
    malformed: list[str] | None = None,
    coded: list[str] | None = None,
) -> Iterator[pa.RecordBatch]:
    spec = task.spec
    fmt = spec["format"]
    try:
        if fmt == "parquet":
            wanted = None if task.keep is None else input_names | set(task.keep)
            yield from _read_parquet(spec, task.batch_rows, wanted, coded)
        elif fmt == "csv":
            yield from _read_csv(spec, input_names, malformed)
        else:
            yield from _read_jsonl(spec, input_names)
    # EOFError, OSError: a truncated gzip file, a file gone or unreadable since planning
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, EOFError, UnicodeDecodeError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInputError(
            f"cannot read {spec['file']} as {fmt}: {text}", details={"file": spec["file"]}
        ) from exc


def _coded(task: PartitionTask, inputs: list[dict[str, Any]]) -> list[str]:
    """The model's category columns a Parquet partition may read as dictionaries.

    Parquet stores such columns dictionary-encoded; read so, they skip decoding
    every value to text, and the recipe looks up each distinct value once
    (:func:`~modelyard.batch._rows.check_rows`). Only columns that go
    nowhere else: not kept in the output (whose schema stays the input's) and not
    captured.
    """
    if task.keep is None or task.capture is not None:
        return []
    kept = set(task.keep)
    return [
        spec["name"]
        for spec in inputs
        if spec["kind"] == "categorical" and spec["name"] not in kept
    ]


def _read_parquet(
    spec: dict[str, Any], batch_rows: int, wanted: set[str] | None, coded: list[str] | None
) -> Iterator[pa.RecordBatch]:
    """Record batches of the partition's row groups: only the columns it needs."""
    import pyarrow.parquet as pq

    start, end = spec["row_groups"]
    with open_input(spec["file"], spec.get("compression")) as handle:
        parquet = pq.ParquetFile(handle, read_dictionary=coded or None)
        names = parquet.schema_arrow.names
        columns = None if wanted is None else [name for name in names if name in wanted]
        yield from parquet.iter_batches(
            batch_size=batch_rows, row_groups=range(start, end), columns=columns
        )


def _schema(spec: dict[str, Any]) -> pa.Schema:
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(spec["schema"])))


def _read_csv(
    spec: dict[str, Any], input_names: set[str], malformed: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """Record batches of a CSV partition; a line with the wrong number of fields is
    skipped and its reason appended to ``malformed`` (the job fails on it without)."""
    import pyarrow.csv as pc

    schema = _schema(spec)
    # the model's inputs as bytes, checked row by row (a value that is not UTF-8
    # rejects its row, as any other unreadable value); the rest as planned
    types = {f.name: pa.binary() if f.name in input_names else f.type for f in schema}
    ranged = "byte_range" in spec
    # a whole file: Arrow reads its header itself (past any empty lines before it)
    read = (
        pc.ReadOptions(block_size=_CSV_BLOCK, column_names=schema.names)
        if ranged
        else pc.ReadOptions(block_size=_CSV_BLOCK)
    )
    convert = pc.ConvertOptions(column_types=types, strings_can_be_null=True)
    parse = pc.ParseOptions()
    if malformed is not None:

        def skip(row: Any) -> str:
            malformed.append(
                f"malformed CSV line: {row.actual_columns} fields instead of "
                f"{row.expected_columns}: {row.text[:200]}"
            )
            return "skip"

        parse = pc.ParseOptions(invalid_row_handler=skip)
    handle = _open_range(spec, _CSV_BLANK)
    if handle is None:
        return
    with handle:
        reader = pc.open_csv(
            handle, read_options=read, parse_options=parse, convert_options=convert
        )
        for batch in reader:
            yield _retype(batch, schema)


def _retype(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Give byte-read columns their planned type back where every value allows it."""
    arrays = []
    for field_ in schema:
        column = batch.column(field_.name)
        if column.type != field_.type:
            # a bad value (or bytes that are not UTF-8) keeps the column as it was
            # read: the row check rejects that row
            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
                text = column.cast(pa.string()) if pa.types.is_binary(column.type) else column
                column = text if field_.type == pa.string() else text.cast(field_.type)
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=schema.names)


def _read_jsonl(spec: dict[str, Any], input_names: set[str]) -> Iterator[pa.RecordBatch]:
    import pyarrow.json as pj

    # a model column guessed as integers from the first block reads as float64, so a
    # later 12.5 is a value, not an unreadable file (the model reads numbers as float64)
    schema = pa.schema(
        field.with_type(pa.float64())
        if field.name in input_names and pa.types.is_integer(field.type)
        else field
        for field in _schema(spec)
    )
    parse = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    handle = _open_range(spec, _JSON_BLANK)
    if handle is None:
        return
    with handle:
        reader = pj.open_json(
            handle, read_options=pj.ReadOptions(block_size=_CSV_BLOCK), parse_options=parse
        )
        yield from reader


def _open_range(spec: dict[str, Any], blank: bytes) -> Any:
    """The partition's bytes, from its first byte that is not ``blank``.

    ``None`` when a byte range holds nothing else (the header-only end of a CSV
    file, the trailing empty lines of a JSON-lines file): Arrow's readers refuse an
    empty stream, but such a partition simply has no rows.
    """
    handle = open_input(spec["file"], spec.get("compression"))
    if "byte_range" not in spec:
        return handle
    start, end = spec["byte_range"]
    handle.seek(start)
    while start < end:
        chunk = handle.read(min(1 << 16, end - start))
        if not chunk:
            break
        text = chunk.lstrip(blank)
        start += len(chunk) - len(text)
        if text:
            break
    if start >= end:
        handle.close()
        return None
    handle.seek(start)
    return _RangeFile(handle, end - start)


class _RangeFile(io.RawIOBase):
    """A read-only view of ``length`` bytes of an open file, from its current position."""

    def __init__(self, handle: Any, length: int) -> None:
        super().__init__()
        self._handle = handle
        self._left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)
        data = self._handle.read(min(len(view), self._left))
        view[: len(data)] = data
        self._left -= len(data)
        return len(data)

    def close(self) -> None:
        self._handle.close()
        super().close()


# -- writing ---------------------------------------------------------------------


class _Sink:
    """An output file written under a temporary name, renamed into place on commit.

    ``dictionary`` names the Parquet columns worth dictionary-encoding (``True``:
    all, Arrow's default). Scored output names only the few-valued columns the
    scorer writes: Arrow tries a dictionary for every column and falls back to
    plain pages once it grows past 1 MiB, which for unique ids and probabilities
    was two thirds of the writer's time (measured: 0.23 s against 0.08 s for 655k
    churn rows, and a smaller file).
    """

    def __init__(
        self, directory: str, name: str, fmt: str, *, dictionary: bool | list[str] = True
    ) -> None:
        from fsspec.core import url_to_fs

        self._fs, root = url_to_fs(directory)
        self._final = f"{root.rstrip('/')}/{name}"
        parent, _, base = self._final.rpartition("/")
        self._temp = f"{parent}/.tmp-{uuid.uuid4().hex[:8]}-{base}"
        self._fmt = fmt
        self._dictionary = dictionary
        self._handle: Any = None
        self._writer: Any = None
        self._schema: pa.Schema | None = None

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            nested = [f"{f.name} ({f.type})" for f in table.schema if pa.types.is_nested(f.type)]
            if self._fmt == "csv" and nested:
                raise InvalidInputError(
                    f"cannot write column(s) {', '.join(nested)} to CSV: leave them out "
                    "of --keep or use --format parquet",
                    details={"columns": nested},
                )
            self._fs.makedirs(self._final.rpartition("/")[0], exist_ok=True)
            self._handle = self._fs.open(self._temp, "wb")
            self._schema = table.schema
            if self._fmt == "parquet":
                import pyarrow.parquet as pq

                self._writer = pq.ParquetWriter(
                    self._handle, table.schema, use_dictionary=self._dictionary
                )
            else:
                import pyarrow.csv as pc

                self._writer = pc.CSVWriter(self._handle, table.schema)
        assert self._schema is not None
        if table.schema != self._schema:
            table = table.cast(self._schema)
        self._writer.write_table(table)

    def commit(self) -> tuple[str, str] | None:
        """Close, checksum and rename into place; ``None`` when nothing was written."""
        if self._writer is None:
            return None
        self._writer.close()
        self._handle.close()
        digest = hashlib.sha256()
        with self._fs.open(self._temp, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        self._fs.mv(self._temp, self._final)
        return self._fs.unstrip_protocol(self._final), digest.hexdigest()

    def abort(self) -> None:
        """Drop the temporary file of a partition that failed."""
        if self._handle is None:
            return
        for closable in (self._writer, self._handle):  # the writer may not exist yet
            try:
                if closable is not None:
                    closable.close()
            except Exception:  # already broken: removing the file is what matters
                pass
        if self._fs.exists(self._temp):
            self._fs.rm(self._temp)
