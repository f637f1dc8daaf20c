"""Monitors: each monitor's open violations, its windows and quality per variant."""

from __future__ import annotations

from starlette.responses import Response

from modelyard.ui._context import PageRequest

__all__ = ["monitor_page", "monitors"]


def monitors(page: PageRequest) -> Response:
    """Every monitor with its endpoint, baseline and open violations."""
    found = page.ui.workspace.monitors.list()
    return page.render(
        "monitors.html", title="Monitors", cli="modelyard monitor list", monitors=found
    )


def monitor_page(page: PageRequest) -> Response:
    """One monitor: open violations, windows checked, quality and the A/B verdict."""
    name = page.param("name")
    summary = page.ui.workspace.monitors.summary(name)
    return page.render(
        "monitor.html",
        title=f"Monitor {name}",
        cli=f"modelyard monitor show {name}",
        summary=summary,
    )
