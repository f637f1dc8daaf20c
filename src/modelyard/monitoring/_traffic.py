"""An endpoint's traffic as the gateway saw it: per-variant figures from its
``/metrics`` text, and the latest captured requests.

The figures come from the Prometheus text exposition (read with
``prometheus_client``'s public parser), so any copy of a gateway's ``/metrics``
gives the same answer as the gateway's own registry. Latency percentiles are
estimated from the histogram's buckets the way Prometheus' ``histogram_quantile``
does: linear within the bucket that holds the rank, the highest finite bound when
the rank falls in the ``+Inf`` bucket. They are cumulative since the gateway
started.

The captured sample reads the Parquet files the gateway's capture writer leaves
under ``capture/endpoint=NAME/hour=.../part-<time_ns>-<pid>-<n>.parquet``,
newest hour and newest file first, so a sample costs a few small files however
much traffic was captured.
"""

from __future__ import annotations

import logging
import math
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
    no request yet); ``errors`` counts answers with a 4xx or 5xx status.
    """

    variant: str
    requests: float = 0.0
    errors: float = 0.0
    latency_sum: float = 0.0
    latency_count: float = 0.0
    latency_ms: dict[str, float | None] = field(default_factory=dict)
    buckets: list[tuple[float, float]] = field(default_factory=list, repr=False)

    @property
    def error_rate(self) -> float | None:
        """Share of answers that were errors (``None``: no request yet)."""
        return self.errors / self.requests if self.requests else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the raw buckets)."""
        data = asdict(self)
        del data["buckets"]
        data["error_rate"] = self.error_rate
        return data


def gateway_traffic(
    metrics_text: str, endpoint: str, variants: Iterable[str] = ()
) -> list[VariantTraffic]:
    """Per variant of ``endpoint``, from a gateway's ``/metrics`` text: requests,
    errors, error rate and latency percentiles; zeros for the ``variants`` no
    request reached yet. Sorted by variant name."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[str, VariantTraffic] = {name: VariantTraffic(name) for name in variants}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            labels = sample.labels
            if labels.get("endpoint") != endpoint or "variant" not in labels:
                continue
            row = found.setdefault(labels["variant"], VariantTraffic(labels["variant"]))
            if sample.name == "modelyard_requests_total":
                row.requests += sample.value
                if labels.get("status", "200")[:1] in ("4", "5"):
                    row.errors += sample.value
            elif sample.name == "modelyard_request_latency_seconds_sum":
                row.latency_sum += sample.value
            elif sample.name == "modelyard_request_latency_seconds_count":
                row.latency_count += sample.value
            elif sample.name == "modelyard_request_latency_seconds_bucket":
                row.buckets.append((float(labels["le"]), sample.value))
    for row in found.values():
        row.latency_ms = {
            f"p{round(q * 100)}": _milliseconds(histogram_quantile(q, row.buckets))
            for q in QUANTILES
        }
    return sorted(found.values(), key=lambda row: row.variant)


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """The ``q`` quantile (0-1) of a histogram given as cumulative ``(le, count)``
    pairs, interpolated linearly within its bucket; ``None`` without observations."""
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    total = ordered[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if math.isinf(bound):  # beyond the last finite bucket: its bound, as Prometheus
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


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
