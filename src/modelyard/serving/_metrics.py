"""Prometheus metrics of one gateway (its own registry, so two apps never clash)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from modelyard.serving._readings import LATENCY_BUCKETS

if TYPE_CHECKING:
    from modelyard.serving._capture import CaptureWriter

__all__ = ["GatewayMetrics"]


class GatewayMetrics:
    """Requests, errors and latency per endpoint and variant; capture queue and drops."""

    def __init__(self, capture: CaptureWriter, shadow_dropped: Callable[[], int]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "modelyard_requests",
            "Invocations answered, by endpoint, variant and HTTP status (an error's own "
            "status: 4xx the request's fault, 5xx the variant's, also when SageMaker's "
            "route sent it as 424 ModelError).",
            ["endpoint", "variant", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "modelyard_errors",
            "Invocations answered with an error, by endpoint and error type.",
            ["endpoint", "type"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "modelyard_request_latency_seconds",
            "Time from request received to response sent, by endpoint and variant.",
            ["endpoint", "variant"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.shadow = Counter(
            "modelyard_shadow_requests",
            "Copies of requests answered by shadow variants.",
            ["endpoint", "variant"],
            registry=self.registry,
        )
        # gauges read from their owner at scrape time, so nothing has to be kept in step
        readings: list[tuple[str, str, Callable[[], float]]] = [
            (
                "modelyard_capture_queue_depth",
                "Capture records waiting to be written.",
                lambda: float(capture.depth),
            ),
            (
                "modelyard_capture_queue_bytes",
                "Bytes of request and response text waiting to be written.",
                lambda: float(capture.queued_bytes),
            ),
            (
                "modelyard_capture_dropped",
                "Capture records dropped because the queue was at its byte budget.",
                lambda: float(capture.dropped),
            ),
            (
                "modelyard_capture_written",
                "Capture records written to Parquet.",
                lambda: float(capture.written),
            ),
            (
                "modelyard_capture_failed",
                "Capture records that could not be written (disk full, bad path).",
                lambda: float(capture.failed),
            ),
            (
                "modelyard_shadow_dropped",
                "Shadow copies dropped because the shadow queue was full.",
                lambda: float(shadow_dropped()),
            ),
        ]
        for name, description, read in readings:
            Gauge(name, description, registry=self.registry).set_function(read)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
