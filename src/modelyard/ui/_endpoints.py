"""Endpoints: variants with weights and shadow, live traffic from the gateway's own
metrics, the configuration history, and rollback (admin)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from modelyard.ui._context import PageRequest
from modelyard.ui._live import traffic

__all__ = ["endpoint_page", "endpoints", "live", "rollback"]


def endpoints(page: PageRequest) -> Response:
    """Every endpoint and its traffic split."""
    found = page.ui.workspace.endpoints.list()
    return page.render(
        "endpoints.html", title="Endpoints", cli="modelyard endpoint list", endpoints=found
    )


def endpoint_page(page: PageRequest) -> Response:
    """One endpoint: variants, live traffic (inside the gateway), history with rollback."""
    store = page.ui.workspace.endpoints
    endpoint = store.get(page.param("name"))
    history = store.history(endpoint.name)
    return page.render(
        "endpoint.html",
        title=f"Endpoint {endpoint.name}",
        cli=f"modelyard endpoint show {endpoint.name}",
        endpoint=endpoint,
        weights=endpoint.config.normalised_weights(),
        history=list(reversed(history)),
        live=page.ui.metrics is not None,
    )


def live(page: PageRequest) -> Response:
    """Cumulative request, error and latency totals per variant (the page turns two
    readings into rates); an empty list outside the gateway."""
    endpoint = page.ui.workspace.endpoints.get(page.param("name"))
    names = [variant.name for variant in endpoint.config.variants]
    return JSONResponse({"variants": traffic(page.ui.metrics, endpoint.name, names)})


def rollback(page: PageRequest) -> Response:
    """Return to an earlier configuration (the previous one, or ``to``)."""
    text = page.form.get("to", "")
    to = int(text) if text.isdigit() else None
    endpoint = page.ui.workspace.endpoints.rollback(page.param("name"), to, actor=page.actor)
    return page.redirect(f"/endpoints/{endpoint.name}")
