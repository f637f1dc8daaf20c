"""Per-variant figures from a gateway's /metrics text: percentiles from the latency
histogram's buckets, error rate (5xx) beside client errors (4xx), and variants that
saw no request."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.monitoring import gateway_traffic
from modelyard.serving import CaptureWriter
from modelyard.serving._metrics import GatewayMetrics


def _metrics(tmp: Path) -> GatewayMetrics:
    return GatewayMetrics(CaptureWriter(tmp / "capture"), lambda: 0)


def _bounds(buckets: list[float], value: float) -> tuple[float, float]:
    """The histogram bucket that holds ``value``: (lower, upper]."""
    lower = 0.0
    for upper in buckets:
        if value <= upper:
            return lower, upper
        lower = upper
    return lower, math.inf


latencies = st.lists(
    st.floats(min_value=0.0, max_value=4.0, allow_nan=False), min_size=1, max_size=200
)


@settings(max_examples=60, deadline=None)
@given(latencies)
def test_each_percentile_lies_in_the_bucket_of_the_true_one(observed: list[float]) -> None:
    with tempfile.TemporaryDirectory() as tmp:  # the writer is never started: no file
        metrics = _metrics(Path(tmp))
    for value in observed:
        metrics.latency.labels("api", "a").observe(value)
        metrics.requests.labels("api", "a", "200").inc()
    text = metrics.render().decode()
    (row,) = gateway_traffic(text, "api")
    finite = sorted(
        float(line.split('le="')[1].split('"')[0])
        for line in text.splitlines()
        if line.startswith("modelyard_request_latency_seconds_bucket") and "+Inf" not in line
    )
    ordered = sorted(observed)
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        # the observation at rank ceil(q * n) is the true quantile's bucket
        true = ordered[max(math.ceil(q * len(ordered)) - 1, 0)]
        lower, upper = _bounds(finite, true)
        estimate = row.latency_ms[name]
        assert estimate is not None
        if math.isinf(upper):  # beyond the last bucket: its bound, as Prometheus answers
            assert estimate == finite[-1] * 1000
        else:
            assert lower * 1000 - 1e-9 <= estimate <= upper * 1000 + 1e-9, (name, true, estimate)
    assert row.requests == len(observed) and row.error_rate == 0.0


def test_errors_other_endpoints_and_idle_variants(tmp_path: Path) -> None:
    metrics = _metrics(tmp_path)
    for status, count in (("200", 7), ("400", 2), ("503", 1)):
        for _ in range(count):
            metrics.requests.labels("api", "a", status).inc()
            metrics.latency.labels("api", "a").observe(0.003)
    metrics.requests.labels("other", "a", "500").inc()
    rows = gateway_traffic(metrics.render().decode(), "api", ["a", "b"])
    assert [row.variant for row in rows] == ["a", "b"]
    busy, idle = rows
    # the 503 is the variant's failure; the two 400s are the client's, counted apart
    assert (busy.requests, busy.failures, busy.client_errors, busy.error_rate) == (10, 1, 2, 0.1)
    assert busy.latency_ms["p50"] is not None and 2.0 <= busy.latency_ms["p50"] <= 5.0
    assert idle.to_dict()["error_rate"] is None and idle.latency_ms["p99"] is None
    assert gateway_traffic("", "api") == []
