"""Reading a gateway's ``/metrics``: one variant's answers, failures and latency.

The one reader of the Prometheus text the gateway exposes (``GatewayMetrics``):
the dashboard's live figures (``modelyard.monitoring.gateway_traffic``) and the
deploy guard's alarms (``modelyard.pipelines.guarded_deploy``) both read it here,
through ``prometheus_client``'s public parser, so any copy of a gateway's
``/metrics`` gives the same answer as the gateway's own registry.

Who is at fault is decided here, once, from the status an answer was counted
with (modelyard's own status: a SageMaker-route ``ModelError``, sent as 424, is
counted with the status its error had):

- a **failure** (5xx) is the variant's fault: the model raised, or the gateway
  could not answer; the guard's error-rate alarm and the dashboard's error rate
  count these;
- a **client error** (4xx) is the request's fault: a body that does not parse, a
  field the signature refuses, a missing token. It is counted and shown apart, and
  never rolls a deployment back (a candidate is not worse because a client sent it
  a bad row).

Latency quantiles are estimated from the histogram's buckets as Prometheus'
``histogram_quantile`` does: linear within the bucket that holds the rank, the
highest finite bound when the rank falls in the ``+Inf`` bucket. Every figure is
cumulative since the gateway started; :meth:`VariantReading.minus` gives what
happened between two readings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from modelyard.errors import ConflictError

__all__ = [
    "LATENCY_BUCKETS",
    "VariantReading",
    "client_error",
    "failure",
    "histogram_quantile",
    "parse_gateway_metrics",
    "read_gateway_metrics",
]

# the gateway's latency histogram (seconds): a quantile past the last bound reads as it
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_REQUESTS = "modelyard_requests_total"
_LATENCY = "modelyard_request_latency_seconds"


def failure(status: str) -> bool:
    """An answer that is the variant's fault: a 5xx status."""
    return status.startswith("5")


def client_error(status: str) -> bool:
    """An answer that is the request's fault: a 4xx status."""
    return status.startswith("4")


@dataclass
class VariantReading:
    """One variant's answers as one or more gateways counted them (cumulative).

    Attributes:
        statuses: answers by HTTP status (``"200"``, ``"422"``, ``"500"``...).
        buckets: the latency histogram: upper bound in seconds -> answers that took
            at most that long (``math.inf`` holds every answer).
        latency_sum: seconds spent on all answers.
        latency_count: answers timed.
    """

    statuses: dict[str, float] = field(default_factory=dict)
    buckets: dict[float, float] = field(default_factory=dict)
    latency_sum: float = 0.0
    latency_count: float = 0.0

    @property
    def requests(self) -> float:
        """Every answer, whatever its status."""
        return sum(self.statuses.values())

    @property
    def failures(self) -> float:
        """Answers that were the variant's fault (see :func:`failure`)."""
        return sum(n for status, n in self.statuses.items() if failure(status))

    @property
    def client_errors(self) -> float:
        """Answers that were the request's fault (see :func:`client_error`)."""
        return sum(n for status, n in self.statuses.items() if client_error(status))

    @property
    def failure_rate(self) -> float | None:
        """Share of answers that were failures (``None``: no answer yet)."""
        return self.failures / self.requests if self.requests else None

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile (0-1) of the latency in seconds (``None``: no answer)."""
        return histogram_quantile(q, self.buckets.items())

    def minus(self, earlier: VariantReading) -> VariantReading:
        """What happened since ``earlier`` (a reading of the same gateways)."""
        return VariantReading(
            {s: n - earlier.statuses.get(s, 0.0) for s, n in self.statuses.items()},
            {le: n - earlier.buckets.get(le, 0.0) for le, n in self.buckets.items()},
            self.latency_sum - earlier.latency_sum,
            self.latency_count - earlier.latency_count,
        )

    def add(self, other: VariantReading) -> None:
        """Add another gateway's reading of the same variant."""
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0.0) + n
        for le, n in other.buckets.items():
            self.buckets[le] = self.buckets.get(le, 0.0) + n
        self.latency_sum += other.latency_sum
        self.latency_count += other.latency_count


def parse_gateway_metrics(text: str, endpoint: str) -> dict[str, VariantReading]:
    """Each variant of ``endpoint`` that answered, from one gateway's ``/metrics``
    text (Prometheus' text exposition). Other endpoints' series are left out."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[str, VariantReading] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if labels.get("endpoint") != endpoint or not labels.get("variant"):
                continue
            row = found.setdefault(labels["variant"], VariantReading())
            if sample.name == _REQUESTS:
                status = labels.get("status", "")
                row.statuses[status] = row.statuses.get(status, 0.0) + sample.value
            elif sample.name == f"{_LATENCY}_bucket":
                bound = float(labels["le"])
                row.buckets[bound] = row.buckets.get(bound, 0.0) + sample.value
            elif sample.name == f"{_LATENCY}_sum":
                row.latency_sum += sample.value
            elif sample.name == f"{_LATENCY}_count":
                row.latency_count += sample.value
    return found


def read_gateway_metrics(urls: Sequence[str], endpoint: str) -> dict[str, VariantReading]:
    """Each variant's answers of ``endpoint``, summed over the gateways at ``urls``
    (each one's ``GET /metrics``).

    Raises:
        ConflictError: a gateway did not answer, in one line naming it.
    """
    import httpx

    total: dict[str, VariantReading] = {}
    for url in urls:
        try:
            response = httpx.get(f"{url.rstrip('/')}/metrics", timeout=10)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise ConflictError(f"gateway {url} did not give its metrics: {exc}") from None
        for variant, reading in parse_gateway_metrics(response.text, endpoint).items():
            total.setdefault(variant, VariantReading()).add(reading)
    return total


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
