"""Streaming a CSV file into Arrow record batches, checked to its last byte.

Arrow's streaming reader holds one block at a time, so memory does not grow with
the file. Three things it does not do on its own are done here:

- **Text**: the bytes are checked as UTF-8 on their way to Arrow (or transcoded
  from the encoding the user names), so a Latin-1 file is an error naming the
  line and suggesting ``--encoding``, never a column of raw bytes.
- **Types**: Arrow infers each column's type from the first block; a later value
  that does not fit (a ``1.5`` in a column of integers, text in a column that was
  empty so far) widens that column and the file is read again, a bounded number
  of times, so no value is ever lost.
- **Completeness**: Arrow silently drops a last row that opens a quote and never
  closes it (a 1,000-row file read as 3 rows). The rows read are checked against
  the lines seen; when they differ (values with line breaks, blank lines) the file
  is checked record by record with Python's ``csv`` module, and a quote left open
  is an error naming its line.

A plain (uncompressed) UTF-8 file is first read the fast way: in chunks of a few
MiB cut at line ends, two parsed by Arrow at once, Arrow checking the text as
UTF-8 and a reader thread counting the lines. That read is kept only when it
is beyond doubt: every line became a row, no column came out as raw bytes, and
Arrow raised nothing but a column to widen. Anything else (a quote left open,
values with line breaks, blank lines, ragged rows, bytes that are not UTF-8) reads
the file again the precise way above, which finds and names the problem, so the
errors are the same whichever way a file is read.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import deque
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import pyarrow as pa

from modelyard.data._source import ReadAgain
from modelyard.errors import InvalidInputError

__all__ = ["CsvOptions", "CsvSource"]

# Arrow infers types on the first block and parses blocks in parallel: larger
# blocks see more rows before inferring but parse slower (8 MiB took twice as long
# as 1 to 4 MiB on the benchmark's file); a late misfit only widens and re-reads.
_BLOCK_SIZE = 2 << 20
_READ_SIZE = 1 << 20
# The fast read parses chunks of this size: large enough to infer types from many
# rows, small enough that the chunks in flight (parsed, and read ahead) and their
# tables stay a few dozen MiB.
_CHUNK_SIZE = 16 << 20
# Chunks parsed at the same time, each on a thread of its own.
_PARSERS = 2
# input_stream decompresses these; the fast read needs the file's own bytes.
_COMPRESSED = frozenset({".gz", ".bz2", ".zst", ".zstd", ".lz4", ".br"})
_CONVERSION = re.compile(
    r"In CSV column #(?P<index>\d+): (?:Row #(?P<row>\d+): )?"
    r"CSV conversion error to (?P<type>[\w\[\], ]+): invalid value '(?P<value>.*)'",
    re.DOTALL,
)
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class CsvOptions:
    """How to read one CSV file.

    Attributes:
        delimiter: the field separator (default: tab for ``.tsv``, else comma).
        encoding: the file's text encoding; ``None`` means UTF-8, checked.
    """

    delimiter: str | None = None
    encoding: str | None = None


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


@dataclass
class _Tally:
    """What the text stream saw, to check the parser's row count against."""

    newlines: int = 0
    last_byte: bytes = b""
    total_bytes: int = 0


class _Utf8Stream:
    """A file's bytes as UTF-8 for Arrow: checked, or transcoded, and counted.

    Arrow calls :meth:`read` from its reader thread; an error raised here reaches
    the caller of the batch iterator unchanged.
    """

    def __init__(self, raw: _Readable, path: Path, encoding: str | None) -> None:
        self._raw = raw
        self._path = path
        self._encoding = encoding
        self._transcode = encoding is not None and codecs.lookup(encoding).name != "utf-8"
        self._decoder = codecs.getincrementaldecoder(encoding or "utf-8")(errors="strict")
        self._pending = b""
        self._started = False
        self._finished = False
        self.tally = _Tally()
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of UTF-8 (all that is left when ``size`` < 0)."""
        if not self._finished and (size < 0 or len(self._pending) < size):
            chunks, held = [self._pending], len(self._pending)
            while not self._finished and (size < 0 or held < size):
                chunk = self._next_chunk()
                chunks.append(chunk)
                held += len(chunk)
            self._pending = b"".join(chunks)
        if size < 0 or size >= len(self._pending):
            out, self._pending = self._pending, b""
        else:
            out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def _next_chunk(self) -> bytes:
        data = self._raw.read(_READ_SIZE)
        if not self._started:
            self._started = True
            if not self._transcode and data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise self._not_text(data, exc) from None
        out = text.encode("utf-8") if self._transcode else data
        if not data:
            self._finished = True
        if out:
            self.tally.newlines += out.count(b"\n")
            self.tally.last_byte = out[-1:]
            self.tally.total_bytes += len(out)
        return out

    def _not_text(self, data: bytes, exc: UnicodeDecodeError) -> InvalidInputError:
        line = self.tally.newlines + data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.end]
        start = data.rfind(b"\n", 0, exc.start) + 1
        end = data.find(b"\n", exc.start)
        snippet = data[start : end if end >= 0 else len(data)][:80]
        if self._encoding is not None:
            return InvalidInputError(
                f"{self._path} is not {self._encoding} text: bytes {bad.hex(' ')} on line "
                f"{line} cannot be decoded ({snippet!r}); check --encoding",
                details={"file": str(self._path), "line": line, "encoding": self._encoding},
            )
        guess = _guess_encoding(snippet)
        return InvalidInputError(
            f"{self._path} is not UTF-8 text: byte {bad[:1].hex()} on line {line} "
            f"({snippet!r}); give its encoding with --encoding, e.g. --encoding {guess} "
            f"(which reads that line as {snippet.decode(guess, 'replace')!r})",
            details={"file": str(self._path), "line": line, "suggested_encoding": guess},
        )


def _guess_encoding(sample: bytes) -> str:
    """The most likely single-byte encoding of a non-UTF-8 line (for the hint only)."""
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


class _Unsure(Exception):  # noqa: N818 - a signal inside this module, never raised out
    """The fast read cannot vouch for what it read: read the precise way."""


@dataclass(frozen=True)
class _Chunk:
    """Whole lines of the file: the bytes, and how many line breaks they hold."""

    data: memoryview
    newlines: int


class CsvSource:
    """A CSV file read as record batches of one schema, checked to the end.

    A column whose later values do not fit the type inferred from the first block
    is widened (null -> integer -> float -> text) and :class:`ReadAgain` is raised:
    the caller drops what it wrote and calls :meth:`batches` again, which reads the
    file from the start with the wider type. Each restart widens one column one
    step, so a file is read at most a few times per column, and usually once. A
    fast read that cannot vouch for its result raises :class:`ReadAgain` too, once,
    and every later call reads the precise way.
    """

    def __init__(self, path: Path, options: CsvOptions) -> None:
        self.path = path
        self.options = options
        self._widened: dict[str, pa.DataType] = {}
        self._rows = 0
        encoding = options.encoding
        self._precise = (encoding is not None and codecs.lookup(encoding).name != "utf-8") or bool(
            {s.lower() for s in path.suffixes} & _COMPRESSED
        )

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The file's rows, a block or a chunk at a time.

        Raises:
            ReadAgain: a column was widened, or the fast read is given up; call again.
            InvalidInputError: not text in the encoding, malformed rows, a quote
                left open, or a value that fits no type (each names the file and
                the line or column).
        """
        self._rows = 0
        delimiter = self.options.delimiter or ("\t" if self.path.suffix == ".tsv" else ",")
        if self._precise:
            yield from self._precise_batches(delimiter)
            return
        try:
            yield from self._fast_batches(delimiter)
        except _Unsure as exc:
            self._precise = True
            raise ReadAgain(f"read record by record: {exc}") from None

    def _fast_batches(self, delimiter: str) -> Iterator[pa.RecordBatch]:
        """The rows, parsed a chunk at a time, :data:`_PARSERS` chunks at once.

        The first chunk sets the columns and their types; the later ones are
        parsed with those types, each by one thread (Arrow's own threads within a
        chunk cost more CPU for the same work) and handed on in order.

        Raises:
            _Unsure: anything but a column to widen went wrong, or fewer rows
                came out than there are lines.
        """
        import pyarrow.csv as pacsv

        parse = pacsv.ParseOptions(delimiter=delimiter)
        types: dict[str, pa.DataType] = dict(self._widened)
        tally = _Tally()
        with (
            closing(_chunks(self.path)) as chunks,
            ThreadPoolExecutor(_PARSERS, thread_name_prefix="modelyard-csv-parse") as pool,
        ):
            first = next(chunks, None)
            if first is None:
                return
            table = self._parsed(pool.submit(_parse, first, parse, None, types), None)
            # A column Arrow could not read as UTF-8 comes out as raw bytes.
            if any(pa.types.is_binary(kind) for kind in table.schema.types):
                raise _Unsure("a column is not UTF-8 text")
            names, schema = table.column_names, table.schema
            types = dict(zip(names, table.schema.types, strict=True))
            yield from self._counted(first, table, tally)
            parsing: deque[tuple[_Chunk, Future[pa.Table]]] = deque()
            for chunk in chunks:
                parsing.append((chunk, pool.submit(_parse, chunk, parse, names, types)))
                if len(parsing) >= _PARSERS:
                    done, future = parsing.popleft()
                    yield from self._counted(done, self._parsed(future, names), tally)
            while parsing:
                done, future = parsing.popleft()
                yield from self._counted(done, self._parsed(future, names), tally)
        if self._rows == 0:
            yield pa.RecordBatch.from_pylist([], schema=schema)
        lines = tally.newlines + (1 if tally.last_byte not in (b"", b"\n") else 0)
        if self._rows + 1 != lines:
            raise _Unsure(f"{self._rows:,} rows from {lines:,} lines")

    def _counted(self, chunk: _Chunk, table: pa.Table, tally: _Tally) -> Iterator[pa.RecordBatch]:
        """The table's batches, with its chunk's lines and rows counted."""
        tally.newlines += chunk.newlines
        tally.last_byte = bytes(chunk.data[-1:])
        for batch in table.to_batches():
            self._rows += batch.num_rows
            yield batch

    def _parsed(self, future: Future[pa.Table], names: list[str] | None) -> pa.Table:
        """A chunk's table, or what its parse raised, as :class:`ReadAgain` or :class:`_Unsure`."""
        try:
            return future.result()
        except MemoryError:
            raise
        except pa.ArrowInvalid as exc:
            outcome = self._explain(exc, names) if names is not None else None
            if isinstance(outcome, ReadAgain):
                raise outcome from None
            raise _Unsure(_first_line(exc)) from None
        except (pa.ArrowException, UnicodeDecodeError) as exc:
            raise _Unsure(_first_line(exc)) from None

    def _precise_batches(self, delimiter: str) -> Iterator[pa.RecordBatch]:
        """The rows, one block at a time from Arrow's streaming reader."""
        import pyarrow.csv as pacsv

        # input_stream decompresses .gz, .bz2, .zst and .lz4 files as it reads.
        with pa.input_stream(str(self.path)) as raw:
            stream = _Utf8Stream(raw, self.path, self.options.encoding)
            try:
                reader = pacsv.open_csv(
                    stream,
                    read_options=pacsv.ReadOptions(block_size=_BLOCK_SIZE),
                    parse_options=pacsv.ParseOptions(delimiter=delimiter),
                    # The text was checked as UTF-8 on its way in: Arrow need not again.
                    convert_options=pacsv.ConvertOptions(
                        strings_can_be_null=True, column_types=self._widened, check_utf8=False
                    ),
                )
            except MemoryError:
                raise
            except pa.ArrowException as exc:
                raise self._unreadable(exc) from None
            names = reader.schema.names
            yielded = False
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except MemoryError:
                    raise  # Arrow's ArrowMemoryError: the ingest reports it as such
                except pa.ArrowInvalid as exc:
                    raise self._explain(exc, names) from None
                except pa.ArrowException as exc:
                    raise self._unreadable(exc) from None
                self._rows += batch.num_rows
                yielded = True
                yield batch
            if not yielded:
                yield pa.RecordBatch.from_pylist([], schema=reader.schema)
            self._check_complete(stream.tally, delimiter)

    def _explain(self, exc: pa.ArrowInvalid, names: list[str]) -> Exception:
        match = _CONVERSION.search(str(exc))
        if match is None:
            return self._unreadable(exc)
        column = names[int(match["index"])]
        wider = _wider(match["type"], match["value"])
        if wider is not None and self._widened.get(column) != wider:
            self._widened[column] = wider
            return ReadAgain(f"column {column!r} widened to {wider}")
        return InvalidInputError(
            f"cannot read {self.path} as csv: column {column!r} after row "
            f"{self._rows:,}: value {match['value']!r} is not {match['type']}",
            details={"file": str(self.path), "column": column},
        )

    def _unreadable(self, exc: pa.ArrowException) -> InvalidInputError:
        message = _first_line(exc)
        if "parse error" in message.lower():
            line = self._ragged_line()
            if line is not None:
                fields = f"{line[1]} field{'s' if line[1] != 1 else ''}"
                message = f"line {line[0]:,} has {fields} where the header has {line[2]}"
        where = f" (after the first {self._rows:,} rows)" if self._rows else ""
        return InvalidInputError(
            f"cannot read {self.path} as csv: {message}{where}",
            details={"file": str(self.path), "format": "csv", "row": self._rows},
        )

    def _ragged_line(self) -> tuple[int, int, int] | None:
        """The first line whose record has another number of fields than the header."""
        delimiter = self.options.delimiter or ("\t" if self.path.suffix == ".tsv" else ",")
        with pa.input_stream(str(self.path)) as raw:
            reader = csv.reader(
                _lines(_Utf8Stream(raw, self.path, self.options.encoding)), delimiter=delimiter
            )
            width, start = None, 1
            try:
                for record in reader:
                    if record:
                        if width is None:
                            width = len(record)
                        elif len(record) != width:
                            return start, len(record), width
                    start = reader.line_num + 1
            except csv.Error:
                return None
        return None

    def _check_complete(self, tally: _Tally, delimiter: str) -> None:
        lines = tally.newlines + (1 if tally.last_byte not in (b"", b"\n") else 0)
        if self._rows + 1 == lines:
            return
        # Fewer rows than lines: values with line breaks or blank lines, or a quote
        # that swallowed the rest of the file. Only a record-by-record read tells.
        with pa.input_stream(str(self.path)) as raw:
            stream = _Utf8Stream(raw, self.path, self.options.encoding)
            _check_records(self.path, _lines(stream), delimiter, self._rows)


def _chunks(path: Path) -> Generator[_Chunk, None, None]:
    """The file in chunks of whole lines, each read by a thread while the last is parsed."""
    with (
        path.open("rb") as handle,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="modelyard-csv") as pool,
    ):
        ahead = pool.submit(_read_chunk, handle)
        while True:
            chunk = ahead.result()
            if chunk is None:
                return
            ahead = pool.submit(_read_chunk, handle)
            yield chunk


def _parse(
    chunk: _Chunk, parse: Any, names: list[str] | None, types: dict[str, pa.DataType]
) -> pa.Table:
    """One chunk as a table (its first line is the header when ``names`` is ``None``)."""
    import pyarrow.csv as pacsv

    return pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(chunk.data)),
        read_options=pacsv.ReadOptions(use_threads=False, column_names=names),
        parse_options=parse,
        convert_options=pacsv.ConvertOptions(strings_can_be_null=True, column_types=types),
    )


def _read_chunk(handle: BinaryIO) -> _Chunk | None:
    """The next chunk of whole lines (the last one may lack its line break)."""
    start = handle.tell()
    size = _CHUNK_SIZE
    while True:
        data = handle.read(size)
        if not data:
            return None
        end = len(data) if len(data) < size else data.rfind(b"\n") + 1
        if end:
            break
        size *= 2  # a line longer than the chunk: read it whole
        handle.seek(start)
    handle.seek(start + end)
    return _Chunk(memoryview(data)[:end], data.count(b"\n", 0, end))


def _wider(arrow_type: str, value: str) -> pa.DataType | None:
    """The next type on the ladder null -> int64 -> float64 -> string that holds ``value``."""
    if arrow_type == "null":
        if _INTEGER.match(value.strip()):
            return pa.int64()
        try:
            float(value)
        except ValueError:
            return pa.string()
        return pa.float64()
    if arrow_type.startswith(("int", "uint")):
        try:
            float(value)
        except ValueError:
            return pa.string()
        return pa.float64()
    if arrow_type == "string":
        return None
    return pa.string()


def _lines(stream: _Utf8Stream) -> Iterator[str]:
    """The stream's text, line by line, each with its line break."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    tail = ""
    while True:
        chunk = stream.read(_READ_SIZE)
        text = tail + decoder.decode(chunk, final=not chunk)
        lines = text.split("\n")
        tail = lines.pop()
        for line in lines:
            yield line + "\n"
        if not chunk:
            break
    if tail:
        yield tail


def _check_records(path: Path, lines: Iterator[str], delimiter: str, rows: int) -> None:
    """Count the file's records with Python's csv module; refuse if it was not all read."""
    records = 0
    line_after_last = 0
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        for record in reader:
            if record:
                records += 1
            line_after_last = reader.line_num
    except csv.Error as exc:
        line = line_after_last + 1
        raise InvalidInputError(
            f"cannot read {path} as csv: the record starting on line {line:,} does not "
            f"parse ({exc}): is a quote left open?",
            details={"file": str(path), "line": line},
        ) from None
    if records - 1 != rows:
        raise InvalidInputError(
            f"cannot read {path} as csv: {records - 1:,} records in the file but {rows:,} "
            "rows parsed",
            details={"file": str(path), "records": records - 1, "rows": rows},
        )


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
