"""Endpoints: variants with weights and shadow, live traffic from the gateway's own
metrics, a sample of captured traffic, the configuration history, and rollback (admin)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from modelyard.ui._context import PageRequest

__all__ = ["endpoint_page", "endpoints", "live", "rollback"]

SAMPLE = 20


def endpoints(page: PageRequest) -> Response:
    """Every endpoint and its traffic split."""
    found = page.ui.workspace.endpoints.list()
    return page.render(
        "endpoints.html", title="Endpoints", cli="modelyard endpoint list", endpoints=found
    )


def endpoint_page(page: PageRequest) -> Response:
    """One endpoint: variants, live traffic (inside the gateway), the latest captured
    requests, history with rollback."""
    from modelyard.monitoring import captured_sample

    workspace = page.ui.workspace
    endpoint = workspace.endpoints.get(page.param("name"))
    history = workspace.endpoints.history(endpoint.name)
    return page.render(
        "endpoint.html",
        title=f"Endpoint {endpoint.name}",
        cli=f"modelyard endpoint show {endpoint.name}",
        endpoint=endpoint,
        weights=endpoint.config.normalised_weights(),
        history=list(reversed(history)),
        live=page.ui.metrics is not None,
        captured=captured_sample(workspace.monitors.capture_root, endpoint.name, SAMPLE),
    )


def live(page: PageRequest) -> Response:
    """Per variant: cumulative requests, errors and latency totals (the page turns two
    readings into rates), error rate and latency percentiles since the gateway
    started, from its ``/metrics`` text; an empty list outside the gateway."""
    endpoint = page.ui.workspace.endpoints.get(page.param("name"))
    registry = page.ui.metrics
    if registry is None:
        return JSONResponse({"variants": []})
    from prometheus_client import generate_latest

    from modelyard.monitoring import gateway_traffic

    names = [variant.name for variant in endpoint.config.variants]
    found = gateway_traffic(generate_latest(registry).decode(), endpoint.name, names)
    return JSONResponse({"variants": [row.to_dict() for row in found]})


def rollback(page: PageRequest) -> Response:
    """Return to an earlier configuration (the previous one, or ``to``)."""
    text = page.form.get("to", "")
    to = int(text) if text.isdigit() else None
    endpoint = page.ui.workspace.endpoints.rollback(page.param("name"), to, actor=page.actor)
    return page.redirect(f"/endpoints/{endpoint.name}")
