"""An endpoint's traffic as the gateway saw it: per-variant figures from its
``/metrics`` text, and the latest captured requests.

The figures come from the gateway's own reader of its ``/metrics``
(``modelyard.serving.parse_gateway_metrics``), which the deploy guard's alarms read
too: an answer with a 5xx status is a failure (the variant's fault) and counts in
the error rate; a 4xx (a bad request: the client's fault) is counted apart as a
client error. Latency percentiles are estimated from the histogram's buckets as
Prometheus' ``histogram_quantile`` does. They are cumulative since the gateway
started.

The captured sample reads the Parquet files the gateway's capture writer leaves
under ``capture/endpoint=NAME/hour=.../part-<time_ns>-<pid>-<n>.parquet``,
newest hour and newest file first, so a sample costs a few small files however
much traffic was captured.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from modelyard.monitoring._window import capture_windows

__all__ = ["CapturedRecord", "VariantTraffic", "captured_sample", "gateway_traffic"]

log = logging.getLogger("modelyard.monitoring")
QUANTILES = (0.5, 0.95, 0.99)


@dataclass
class VariantTraffic:
    """One variant's figures since the gateway started.

    ``latency_ms`` maps ``p50``, ``p95`` and ``p99`` to milliseconds (``None``:
    no request yet); ``failures`` counts answers with a 5xx status (the variant's
    fault: what the error rate and the deploy guard's alarm count),
    ``client_errors`` those with a 4xx (a bad request: the client's fault).
    """

    variant: str
    requests: float = 0.0
    failures: float = 0.0
    client_errors: float = 0.0
    latency_sum: float = 0.0
    latency_count: float = 0.0
    latency_ms: dict[str, float | None] = field(default_factory=dict)

    @property
    def error_rate(self) -> float | None:
        """Share of answers that were failures (``None``: no request yet)."""
        return self.failures / self.requests if self.requests else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["error_rate"] = self.error_rate
        return data


def gateway_traffic(
    metrics_text: str, endpoint: str, variants: Iterable[str] = ()
) -> list[VariantTraffic]:
    """Per variant of ``endpoint``, from a gateway's ``/metrics`` text: requests,
    failures, client errors, error rate and latency percentiles; zeros for the
    ``variants`` no request reached yet. Sorted by variant name."""
    from modelyard.serving import VariantReading, parse_gateway_metrics

    readings = parse_gateway_metrics(metrics_text, endpoint)
    for name in variants:
        readings.setdefault(name, VariantReading())
    return [
        VariantTraffic(
            variant=name,
            requests=reading.requests,
            failures=reading.failures,
            client_errors=reading.client_errors,
            latency_sum=reading.latency_sum,
            latency_count=reading.latency_count,
            latency_ms={
                f"p{round(q * 100)}": _milliseconds(reading.quantile(q)) for q in QUANTILES
            },
        )
        for name, reading in sorted(readings.items())
    ]


def _milliseconds(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


@dataclass(frozen=True)
class CapturedRecord:
    """One captured invocation, its texts cut at the sample's ``max_chars``."""

    time: datetime
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["time"] = self.time.isoformat()
        return data


def captured_sample(
    capture_root: Path, endpoint: str, limit: int = 20, *, max_chars: int = 1000
) -> list[CapturedRecord]:
    """The latest ``limit`` captured invocations of ``endpoint``, newest first.

    A file that cannot be read is logged and skipped; request and response texts
    longer than ``max_chars`` are cut there (a sample is for reading, not replay).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    found: list[dict[str, Any]] = []
    for window in reversed(capture_windows(capture_root, endpoint)):
        directory = capture_root / f"endpoint={endpoint}" / f"hour={window}"
        files = [p for p in directory.glob("part-*.parquet")]
        for path in sorted(files, key=_written_at, reverse=True):
            try:
                found.extend(pq.read_table(path).to_pylist())
            except (OSError, pa.ArrowException) as exc:
                log.warning("capture file %s skipped: %s", path, exc)
            if len(found) >= limit:
                break
        if len(found) >= limit:
            break
    found.sort(key=lambda record: record["time"], reverse=True)
    return [
        CapturedRecord(
            time=record["time"],
            variant=record["variant"],
            model=record["model"],
            shadow=bool(record["shadow"]),
            request_id=record["request_id"],
            inference_id=record["inference_id"],
            latency_ms=record["latency_ms"],
            status=record["status"],
            content_type=record["content_type"],
            request=_cut(record["request"], max_chars),
            response=_cut(record["response"], max_chars),
        )
        for record in found[:limit]
    ]


def _written_at(path: Path) -> tuple[int, str]:
    """A capture file's write time from its name (``part-<time_ns>-...``)."""
    parts = path.name.split("-")
    stamp = parts[1] if len(parts) > 1 and parts[1].isdigit() else "0"
    return int(stamp), path.name


def _cut(text: str | None, max_chars: int) -> str:
    text = text or ""
    return text if len(text) <= max_chars else text[:max_chars] + "…"
