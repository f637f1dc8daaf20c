"""A monitor's report: one self-contained HTML page (Plotly embedded once) and its JSON.

Drift per feature over time, baseline against window distributions of the
features that drifted, realised and estimated quality per variant over time, and
the data-quality findings. As in the profile report, each figure is plain Plotly
JSON drawn by ``Plotly.newPlot`` and every text from the data is escaped.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any

from modelyard._imports import optional_dependency
from modelyard.errors import MissingDependencyError

__all__ = ["render_report"]

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;
max-width:1200px;padding:1rem 2rem;color:#222}
h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
td,th{padding:.2rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
.open{border-left:4px solid #c0392b;background:#fdf0ef;padding:.4rem .8rem;margin:.4rem 0}
.plot{min-height:120px}.note{color:#666}
"""

_DRAW = """
(function () {
  var figures = JSON.parse(document.getElementById("figures").textContent);
  Object.keys(figures).forEach(function (id) {
    var figure = figures[id];
    Plotly.newPlot(id, figure.data, figure.layout, {displaylogo: false, responsive: true});
  });
})();
"""


def render_report(report: dict[str, Any]) -> str:
    """The HTML page of :meth:`MonitorStore.report`'s document."""
    monitor = report["monitor"]
    history = report["history"]
    figures: dict[str, dict[str, Any]] = {}
    title = f"Monitor {monitor['name']} on {monitor['endpoint']}"
    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p>{len(history)} window(s) checked; baseline {escape(str(monitor['model']))}.</p>",
        _open(monitor),
        _drift_over_time(history, figures),
        _distributions(history, figures),
        _quality(report["quality"], figures),
        _data_quality(history),
    ]
    if report.get("comparison"):
        body.append(f"<p>{escape(report['comparison']['verdict'])}</p>")
    try:
        with optional_dependency("the monitor report's plots"):
            from plotly.offline import get_plotlyjs
        scripts = (
            f"<script>{get_plotlyjs()}</script>\n"
            '<script type="application/json" id="figures">'
            + json.dumps(_plain(figures), default=str, allow_nan=False).replace("</", "<\\/")
            + f"</script>\n<script>{_DRAW}</script>"
        )
    except MissingDependencyError as exc:
        scripts = f'<p class="note">{escape(exc.message)}</p>'
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        "<body>" + "\n".join(body) + scripts + "</body></html>\n"
    )


def _open(monitor: dict[str, Any]) -> str:
    episodes = monitor.get("open_episodes") or {}
    if not episodes:
        return "<h2 id='open'>Open violations</h2><p>None.</p>"
    items = "".join(
        f"<div class='open'><b>{escape(k)}</b> since {escape(v['since'])}: "
        f"{escape(v['description'])}</div>"
        for k, v in episodes.items()
    )
    return f"<h2 id='open'>Open violations</h2>{items}"


def _drift_over_time(history: list[dict[str, Any]], figures: dict[str, Any]) -> str:
    series: dict[str, tuple[list[str], list[float | None]]] = {}
    for window in history:
        for drift in window.get("drift") or []:
            xs, ys = series.setdefault(drift["feature"], ([], []))
            xs.append(window["window"])
            ys.append(drift.get("psi"))
    if not series:
        return "<h2 id='drift'>Drift per feature</h2><p>No window with rows yet.</p>"
    data = [
        {"type": "scatter", "mode": "lines+markers", "name": name, "x": xs, "y": ys}
        for name, (xs, ys) in sorted(series.items())
    ]
    figures["drift-over-time"] = _figure(data, 380, "PSI per feature and window")
    return "<h2 id='drift'>Drift per feature</h2><div class='plot' id='drift-over-time'></div>"


def _distributions(history: list[dict[str, Any]], figures: dict[str, Any]) -> str:
    newest: dict[str, tuple[str, dict[str, Any]]] = {}
    for result in history:
        flagged = {
            v["feature"] for v in result["violations"] if v["check"] == "baseline_drift_check"
        }
        for measured in result.get("drift") or []:
            if measured["feature"] in flagged and measured.get("bins"):
                newest[measured["feature"]] = (result["window"], measured)
    if not newest:
        return "<h2 id='distributions'>Drifted features</h2><p>No feature drifted.</p>"
    parts = ["<h2 id='distributions'>Drifted features: baseline against window</h2>"]
    for number, (feature, (window, drift)) in enumerate(sorted(newest.items())):
        key = f"distribution-{number}"
        bins = drift["bins"]
        figures[key] = _figure(
            [
                {
                    "type": "bar",
                    "name": "baseline",
                    "x": bins,
                    "y": drift["baseline_shares"],
                },
                {"type": "bar", "name": window, "x": bins, "y": drift["window_shares"]},
            ],
            300,
            f"{feature} (psi {drift['psi']:.3f})",
        )
        parts.append(f"<div class='plot' id='{key}'></div>")
    return "".join(parts)


def _quality(quality: list[dict[str, Any]], figures: dict[str, Any]) -> str:
    lines: dict[str, tuple[list[str], list[Any]]] = {}
    for figures_of in quality:
        for kind in ("realised", "estimated"):
            value = (figures_of.get(kind) or {}).get("roc_auc")
            xs, ys = lines.setdefault(f"{figures_of['variant']} {kind}", ([], []))
            xs.append(figures_of["window"])
            ys.append(value)
    if not lines:
        return "<h2 id='quality'>Model quality</h2><p>No window checked yet.</p>"
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": name,
            "x": xs,
            "y": ys,
            "line": {"dash": "dot" if name.endswith("estimated") else "solid"},
        }
        for name, (xs, ys) in sorted(lines.items())
    ]
    title = "ROC-AUC per variant: realised and estimated (CBPE)"
    figures["quality-over-time"] = _figure(data, 340, title)
    rows = "".join(
        f"<tr><td>{escape(q['window'])}</td><td>{escape(q['variant'])}</td><td>{q['rows']:,}</td>"
        f"<td>{(q.get('realised') or {}).get('labelled', 0):,}</td></tr>"
        for q in quality
    )
    return (
        "<h2 id='quality'>Model quality</h2><div class='plot' id='quality-over-time'></div>"
        "<table><tr><th>window</th><th>variant</th><th>rows</th><th>labelled</th></tr>"
        f"{rows}</table>"
    )


def _data_quality(history: list[dict[str, Any]]) -> str:
    rows = [
        f"<tr><td>{escape(w['window'])}</td><td>{escape(v['check'])}</td>"
        f"<td>{escape(str(v.get('feature') or ''))}</td><td>{escape(v['description'])}</td></tr>"
        for w in history
        for v in w["violations"]
    ]
    if not rows:
        return "<h2 id='data-quality'>Violations</h2><p>None.</p>"
    return (
        "<h2 id='data-quality'>Violations</h2><table><tr><th>window</th><th>check</th>"
        "<th>feature</th><th>description</th></tr>" + "".join(rows) + "</table>"
    )


def _figure(data: list[dict[str, Any]], height: int, title: str) -> dict[str, Any]:
    return {
        "data": data,
        "layout": {
            "height": height,
            "title": {"text": title},
            "margin": {"l": 60, "r": 20, "t": 40, "b": 60},
        },
    }


def _plain(value: Any) -> Any:
    """``value`` with every non-finite number as ``None`` (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
