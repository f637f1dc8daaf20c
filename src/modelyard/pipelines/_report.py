"""A run's DAG as a picture: one self-contained HTML file with an inline SVG.

Steps are placed in columns by depth (a step sits one column right of its deepest
input), in definition order within a column; each box says the step's kind,
status, cache use and time, coloured by status, and an arrow joins each input to
the step that takes it. No script and no external asset, so the file opens
anywhere and can be attached to a ticket.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelyard.pipelines._records import PipelineRun, StepRecord

__all__ = ["render_run_html"]

_BOX_W, _BOX_H, _GAP_X, _GAP_Y, _MARGIN = 200, 64, 70, 22, 20
_COLOURS = {
    "succeeded": "#d9f2dd",
    "failed": "#f8d4d4",
    "skipped": "#eeeeee",
    "running": "#fff1c2",
    "pending": "#ffffff",
}


def render_run_html(run: PipelineRun) -> str:
    """The run as an HTML page: a header (pipeline, run, status, error) and its DAG."""
    inputs = {step.name: [d for d in step.depends] for step in run.steps}
    depth: dict[str, int] = {}

    def depth_of(name: str) -> int:  # the definition was checked acyclic
        if name not in depth:
            depth[name] = 1 + max((depth_of(d) for d in inputs.get(name, [])), default=-1)
        return depth[name]

    for step in run.steps:
        depth_of(step.name)
    columns: dict[int, list[StepRecord]] = {}
    for step in run.steps:
        columns.setdefault(depth[step.name], []).append(step)
    place: dict[str, tuple[int, int]] = {}
    for column, members in columns.items():
        for row, step in enumerate(members):
            x = _MARGIN + column * (_BOX_W + _GAP_X)
            y = _MARGIN + row * (_BOX_H + _GAP_Y)
            place[step.name] = (x, y)
    width = _MARGIN * 2 + max(len(columns), 1) * (_BOX_W + _GAP_X) - _GAP_X
    tallest = max((len(m) for m in columns.values()), default=1)
    height = _MARGIN * 2 + tallest * (_BOX_H + _GAP_Y) - _GAP_Y
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>'
        "</defs>",
    ]
    for step in run.steps:
        x, y = place[step.name]
        for source in step.depends:
            if source not in place:
                continue
            sx, sy = place[source]
            parts.append(
                f'<path class="edge" data-from="{escape(source)}" data-to="{escape(step.name)}" '
                f'd="M{sx + _BOX_W},{sy + _BOX_H // 2} C{sx + _BOX_W + _GAP_X // 2},'
                f"{sy + _BOX_H // 2} {x - _GAP_X // 2},{y + _BOX_H // 2} {x},{y + _BOX_H // 2}"
                '" fill="none" stroke="#555" marker-end="url(#arrow)"/>'
            )
    for step in run.steps:
        x, y = place[step.name]
        colour = _COLOURS.get(step.status, "#ffffff")
        detail = [step.status]
        if step.cache is not None:
            detail.append(f"cache {step.cache}")
        if step.seconds is not None and step.cache != "hit" and step.status != "skipped":
            detail.append(f"{step.seconds:.2f}s")
        title = step.error or step.reason or ""
        parts.append(
            f'<g class="step" data-name="{escape(step.name)}" data-status="{step.status}">'
            f"<title>{escape(title)}</title>"
            f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="8" '
            f'fill="{colour}" stroke="#333"/>'
            f'<text x="{x + 10}" y="{y + 22}" font-weight="bold">{escape(step.name)}</text>'
            f'<text x="{x + 10}" y="{y + 40}">{escape(step.kind)}</text>'
            f'<text x="{x + 10}" y="{y + 56}">{escape(" · ".join(detail))}</text>'
            "</g>"
        )
    parts.append("</svg>")
    error = f"<p><b>error:</b> {escape(run.error)}</p>" if run.error else ""
    trigger = f" · trigger: {escape(run.trigger)}" if run.trigger else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(run.pipeline)} run {escape(run.id[:12])}</title></head>"
        f"<body><h1>{escape(run.pipeline)}</h1>"
        f"<p>run {escape(run.id)} · {escape(run.status.value)} · "
        f"created {escape(run.created_at.isoformat())}{trigger}</p>{error}"
        f"{''.join(parts)}</body></html>\n"
    )
