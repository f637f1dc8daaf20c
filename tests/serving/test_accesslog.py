"""The access log: batched JSON lines, the same fields whichever way they are written."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelyard.serving._accesslog import AccessLog, write_access_log_to

FIELDS = ["time", "level", "message", "endpoint", "variant", "status", "latency_ms", "request_id"]


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    write_access_log_to(out)
    yield out
    write_access_log_to(None)


def test_lines_wait_for_flush_then_are_written_in_order(stream: io.StringIO) -> None:
    log = AccessLog()
    at = time.time()
    for n in range(3):
        log.add(at, "churn", "a", 200, 0.0012345, f"id{n}")
    assert stream.getvalue() == ""  # nothing written on the request path
    log.flush()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == ["id0", "id1", "id2"]
    assert list(lines[0]) == FIELDS
    assert lines[0]["latency_ms"] == 1.234 and lines[0]["status"] == 200
    assert lines[0]["time"] == time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(at))
    log.flush()  # nothing twice
    assert len(stream.getvalue().splitlines()) == 3


def test_a_full_buffer_flushes_itself(stream: io.StringIO) -> None:
    log = AccessLog(most=5)
    for n in range(12):
        log.add(time.time(), "churn", "a", 200, 0.001, str(n))
    assert len(stream.getvalue().splitlines()) == 10
    log.flush()
    assert len(stream.getvalue().splitlines()) == 12


@given(st.text(), st.text(), st.integers(100, 599), st.floats(0, 1e4), st.text())
def test_any_endpoint_text_gives_the_line_json_dumps_would(
    endpoint: str, variant: str, status: int, latency: float, request_id: str
) -> None:
    out = io.StringIO()
    write_access_log_to(out)
    try:
        log = AccessLog()
        at = time.time()
        log.add(at, endpoint, variant, status, latency, request_id)
        log.flush()
    finally:
        write_access_log_to(None)
    expected = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(at)),
        "level": "info",
        "message": "invocation",
        "endpoint": endpoint,
        "variant": variant,
        "status": status,
        "latency_ms": round(latency * 1000, 3),
        "request_id": request_id,
    }
    assert out.getvalue() == json.dumps(expected) + "\n"


def test_without_a_stream_lines_are_log_records(caplog: pytest.LogCaptureFixture) -> None:
    log = AccessLog()
    at = time.time() - 5
    log.add(at, "churn", "b", 422, 0.002, "rid")
    with caplog.at_level(logging.INFO, logger="modelyard.serving"):
        log.flush()
    (record,) = [r for r in caplog.records if r.getMessage() == "invocation"]
    assert (record.endpoint, record.variant, record.status) == ("churn", "b", 422)  # type: ignore[attr-defined]
    assert record.latency_ms == 2.0 and record.request_id == "rid"  # type: ignore[attr-defined]
    assert record.created == at


def test_a_broken_stream_is_reported_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    closed = io.StringIO()
    closed.close()
    write_access_log_to(closed)
    try:
        log = AccessLog()
        log.add(time.time(), "churn", "a", 200, 0.001, "x")
        with caplog.at_level(logging.ERROR, logger="modelyard.serving"):
            log.flush()
    finally:
        write_access_log_to(None)
    assert log.unwritten == 1
    assert any("not written" in r.getMessage() for r in caplog.records)
