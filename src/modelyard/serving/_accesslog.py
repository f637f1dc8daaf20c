"""The structured access log: one JSON line per invocation, written in batches.

Each line is ``{"time", "level", "message": "invocation", "endpoint", "variant",
"status", "latency_ms", "request_id"}``. Logging a line per request through
:mod:`logging` (a ``LogRecord``, a caller lookup, a formatter, ``json.dumps`` of a
dict) cost about 35 us, more than all the rest of the gateway's bookkeeping for a
request together. So the request path only appends a tuple; :meth:`AccessLog.flush`
(the gateway's poll loop, twice a second, and its shutdown) formats the lines waiting
and writes them:

- to a stream, in one write, when one is set with :func:`write_access_log_to`
  (``modelyard serve`` sets stderr);
- otherwise as INFO records of the ``modelyard.serving`` logger (an app embedding
  the gateway: its own logging configuration decides where they go), each carrying
  the fields as attributes, as before. They cost what they did, only later.

A line therefore appears up to a poll interval after its request; none is lost on a
graceful shutdown.
"""

from __future__ import annotations

import logging
import time
from json.encoder import encode_basestring_ascii as _quote
from typing import TextIO

__all__ = ["AccessLog", "write_access_log_to"]

log = logging.getLogger("modelyard.serving")
_FIELDS = ("endpoint", "variant", "status", "latency_ms", "request_id")

_stream: TextIO | None = None


def write_access_log_to(stream: TextIO | None) -> None:
    """Write access lines straight to ``stream`` (``None``: through :mod:`logging`)."""
    global _stream
    _stream = stream


class AccessLog:
    """Access lines waiting to be written.

    Args:
        most: lines held at most; reaching it flushes at once (on the request path,
            so only when the poll loop falls behind).
    """

    def __init__(self, most: int = 10_000) -> None:
        self._lines: list[tuple[float, str, str, int, float, str]] = []
        self._most = most
        self._second = -1
        self._stamp = ""
        self.unwritten = 0

    def add(
        self, at: float, endpoint: str, variant: str, status: int, latency: float, request_id: str
    ) -> None:
        """Queue one invocation's line (``at``: epoch seconds; ``latency``: seconds)."""
        self._lines.append((at, endpoint, variant, status, latency, request_id))
        if len(self._lines) >= self._most:
            self.flush()

    def flush(self) -> None:
        """Write every waiting line."""
        lines, self._lines = self._lines, []
        if not lines:
            return
        stream = _stream
        if stream is not None:
            try:
                stream.write("".join([self._format(*line) for line in lines]))
                stream.flush()
            except (OSError, ValueError) as exc:  # a closed or broken stderr: say so, go on
                self.unwritten += len(lines)
                log.error("access log: %d lines not written: %s", len(lines), exc)
            return
        if not log.isEnabledFor(logging.INFO):
            return
        for at, endpoint, variant, status, latency, request_id in lines:
            values = (endpoint, variant, status, round(latency * 1000, 3), request_id)
            record = log.makeRecord(
                log.name, logging.INFO, __file__, 0, "invocation", (), None,
                extra=dict(zip(_FIELDS, values, strict=True)),
            )  # fmt: skip
            record.created = at
            record.msecs = (at - int(at)) * 1000
            log.handle(record)

    def _format(
        self, at: float, endpoint: str, variant: str, status: int, latency: float, request_id: str
    ) -> str:
        # the same text as json.dumps of the fields in this order, without building a dict
        second = int(at)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(second))
        return (
            f'{{"time": "{self._stamp}", "level": "info", "message": "invocation", '
            f'"endpoint": {_quote(endpoint)}, "variant": {_quote(variant)}, '
            f'"status": {status}, "latency_ms": {round(latency * 1000, 3)!r}, '
            f'"request_id": {_quote(request_id)}}}\n'
        )
