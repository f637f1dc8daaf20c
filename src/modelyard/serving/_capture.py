"""Data capture: requests and responses written to Parquet off the request path.

The request path only appends a small tuple to a deque bounded in bytes (never
blocks: a record that would take the queue over its byte budget is dropped and the
drop counted, so a burst of large bodies cannot grow the process; a cap in records
let 6 MB bodies take the gateway from 0.4 to 2 GB). A background thread wakes
every ``flush_seconds`` (not once per record, which would hand the GIL back and
forth on every request) and writes what has accumulated into Parquet files
partitioned by endpoint and hour::

    <root>/endpoint=NAME/hour=YYYY-MM-DDTHH/part-<time>-<pid>-<n>.parquet

:meth:`CaptureWriter.close` (the gateway's graceful shutdown) writes everything
still queued before returning.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["CAPTURE_FIELDS", "CaptureRecord", "CaptureWriter"]


class CaptureRecord(NamedTuple):
    """One captured invocation (a tuple: cheap to make on the request path)."""

    time: float  # seconds since the epoch
    endpoint: str
    variant: str
    model: str | None
    shadow: bool
    request_id: str
    inference_id: str | None
    latency_ms: float
    status: int
    content_type: str
    request: str
    response: str


CAPTURE_FIELDS = CaptureRecord._fields
log = logging.getLogger("modelyard.serving")


class CaptureWriter:
    """A bounded queue of capture records and the thread that writes them.

    Args:
        root: directory of the partitioned Parquet dataset.
        max_queue_bytes: request and response text held in memory at most; records
            beyond it are dropped and counted.
        batch_rows: records per file at most.
        flush_seconds: how long a record may wait in memory before being written.
    """

    def __init__(
        self,
        root: Path,
        *,
        max_queue_bytes: int = 64 * 1024 * 1024,
        batch_rows: int = 20_000,
        flush_seconds: float = 0.5,
    ) -> None:
        self.root = root
        self._queue: deque[CaptureRecord] = deque()
        self._max_bytes = max_queue_bytes
        # queued bytes = added - taken; each counter has one writer (the request path,
        # the writer thread), so neither needs a lock
        self._added = 0
        self._taken = 0
        self._batch_rows = batch_rows
        self._flush_seconds = flush_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._files = 0
        self.dropped = 0
        self.written = 0
        self.failed = 0

    @property
    def depth(self) -> int:
        """Records waiting to be written."""
        return len(self._queue)

    @property
    def queued_bytes(self) -> int:
        """Bytes of request and response text waiting to be written."""
        return self._added - self._taken

    def start(self) -> None:
        """Start the writer thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="modelyard-capture", daemon=True)
            self._thread.start()

    def offer(self, record: CaptureRecord) -> bool:
        """Queue one record without waiting; ``False`` (and a counted drop) when full."""
        size = _size(record)
        if self._added - self._taken + size > self._max_bytes:
            self.dropped += 1
            return False
        self._added += size
        self._queue.append(record)  # deque.append is atomic: no lock on the request path
        return True

    def close(self) -> None:
        """Stop the thread after writing every queued record."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        while self._queue:
            self._write(self._take_all())

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            while self._queue:
                self._write(self._take_all())

    def _take_all(self) -> list[CaptureRecord]:
        batch: list[CaptureRecord] = []
        queue = self._queue
        taken = 0
        while queue and len(batch) < self._batch_rows:
            record = queue.popleft()
            taken += _size(record)
            batch.append(record)
        self._taken += taken
        return batch

    def _write(self, batch: list[CaptureRecord]) -> None:
        if not batch:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        groups: dict[tuple[str, int], list[CaptureRecord]] = defaultdict(list)
        for record in batch:
            groups[(record.endpoint, int(record.time // 3600))].append(record)
        schema = _schema(pa)
        for (endpoint, hours), records in groups.items():
            hour = datetime.fromtimestamp(hours * 3600, UTC).strftime("%Y-%m-%dT%H")
            directory = self.root / f"endpoint={endpoint}" / f"hour={hour}"
            self._files += 1
            name = f"part-{time.time_ns()}-{os.getpid()}-{self._files}.parquet"
            try:
                columns = list(zip(*records, strict=True))
                columns[6] = tuple(_utf8(v) for v in columns[6])  # inference_id
                micros = [round(t * 1_000_000) for t in columns[0]]
                arrays: list[Any] = [
                    pa.array(micros, pa.int64()).cast(schema.field("time").type),
                    *(
                        pa.array(values, field.type)
                        for values, field in zip(columns[1:], list(schema)[1:], strict=True)
                    ),
                ]
                table = pa.Table.from_arrays(arrays, schema=schema)
                directory.mkdir(parents=True, exist_ok=True)
                staging = directory / f".{name}.tmp"
                pq.write_table(table, staging)
                staging.rename(directory / name)
                self.written += len(records)
            except (OSError, ValueError, TypeError, pa.ArrowException) as exc:  # never fatal
                self.failed += len(records)
                log.error("capture: %d records for %s not written: %s", len(records), endpoint, exc)


def _size(record: CaptureRecord) -> int:
    """What a record holds in memory, near enough: its texts and a fixed part."""
    return len(record.request) + len(record.response) + 256


def _utf8(text: str | None) -> str | None:
    """``text`` as UTF-8 can hold it: a KServe id is any JSON string, lone surrogates
    too, and one such id made the whole batch of records around it unwritable."""
    if text is None or text.isascii():
        return text
    return text.encode("utf-8", "replace").decode("utf-8")


def _schema(pa: Any) -> Any:
    string = pa.string()
    return pa.schema(
        [
            ("time", pa.timestamp("us", tz="UTC")),
            ("endpoint", string),
            ("variant", string),
            ("model", string),
            ("shadow", pa.bool_()),
            ("request_id", string),
            ("inference_id", string),
            ("latency_ms", pa.float64()),
            ("status", pa.int32()),
            ("content_type", string),
            ("request", string),
            ("response", string),
        ]
    )
