"""Live traffic figures read from the gateway's Prometheus registry (its public
``collect``), so the dashboard shows what ``/metrics`` says without scraping itself."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["traffic"]


def traffic(
    registry: CollectorRegistry | None, endpoint: str, names: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Per variant of ``endpoint``: requests, error answers (status 4xx/5xx), and
    the latency histogram's sum and count, all cumulative since the gateway started;
    zeros for the variants ``names`` that no request reached yet."""
    if registry is None:
        return []
    variants: dict[str, dict[str, Any]] = {}

    def entry(variant: str) -> dict[str, Any]:
        return variants.setdefault(
            variant,
            {
                "variant": variant,
                "requests": 0.0,
                "errors": 0.0,
                "latency_sum": 0.0,
                "latency_count": 0.0,
            },
        )

    for name in names:
        entry(name)
    for family in registry.collect():
        for sample in family.samples:
            labels = sample.labels
            if labels.get("endpoint") != endpoint or "variant" not in labels:
                continue
            if sample.name == "modelyard_requests_total":
                row = entry(labels["variant"])
                row["requests"] += sample.value
                if labels.get("status", "200")[:1] in ("4", "5"):
                    row["errors"] += sample.value
            elif sample.name == "modelyard_request_latency_seconds_sum":
                entry(labels["variant"])["latency_sum"] += sample.value
            elif sample.name == "modelyard_request_latency_seconds_count":
                entry(labels["variant"])["latency_count"] += sample.value
    return sorted(variants.values(), key=lambda row: str(row["variant"]))
