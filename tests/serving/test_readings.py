"""The one reader of a gateway's /metrics: who is at fault for an answer, readings
summed over gateways and taken apart over time, quantiles from the histogram."""

from __future__ import annotations

from pathlib import Path

from modelyard.serving import CaptureWriter, VariantReading, parse_gateway_metrics
from modelyard.serving._metrics import GatewayMetrics


def _metrics(tmp: Path) -> GatewayMetrics:
    return GatewayMetrics(CaptureWriter(tmp / "capture"), lambda: 0)


def test_a_4xx_is_the_clients_fault_and_a_5xx_the_variants(tmp_path: Path) -> None:
    metrics = _metrics(tmp_path)
    for status, count in (("200", 90), ("400", 4), ("401", 1), ("422", 2), ("500", 2), ("503", 1)):
        for _ in range(count):
            metrics.requests.labels("api", "a", status).inc()
            metrics.latency.labels("api", "a").observe(0.004)
    metrics.requests.labels("other", "a", "500").inc()  # another endpoint's
    metrics.requests.labels("api", "", "404").inc()  # refused before a variant was chosen
    (only,) = parse_gateway_metrics(metrics.render().decode(), "api").items()
    name, reading = only
    assert name == "a"
    assert reading.requests == 100
    assert (reading.failures, reading.client_errors) == (3, 7)
    assert reading.failure_rate == 0.03
    assert reading.latency_count == 100 and abs(reading.latency_sum - 0.4) < 1e-9
    assert parse_gateway_metrics("", "api") == {}
    assert VariantReading().failure_rate is None and VariantReading().quantile(0.99) is None


def test_readings_add_over_gateways_and_subtract_over_time(tmp_path: Path) -> None:
    first, second = _metrics(tmp_path / "1"), _metrics(tmp_path / "2")
    for metrics, latency in ((first, 0.003), (second, 0.3)):
        for _ in range(10):
            metrics.requests.labels("api", "a", "200").inc()
            metrics.latency.labels("api", "a").observe(latency)
    before = VariantReading()
    for metrics in (first, second):
        before.add(parse_gateway_metrics(metrics.render().decode(), "api")["a"])
    assert before.requests == 20
    assert 0.0025 <= (before.quantile(0.5) or 0) <= 0.005  # the 10th of 20 is fast
    assert 0.25 <= (before.quantile(0.99) or 0) <= 0.5  # the slowest are 0.3 s

    for _ in range(5):
        second.requests.labels("api", "a", "500").inc()
        second.latency.labels("api", "a").observe(1.7)
    after = VariantReading()
    for metrics in (first, second):
        after.add(parse_gateway_metrics(metrics.render().decode(), "api")["a"])
    since = after.minus(before)
    assert (since.requests, since.failures, since.client_errors) == (5, 5, 0)
    assert 1.0 <= (since.quantile(0.5) or 0) <= 2.5  # only what happened since
    assert since.latency_count == 5
