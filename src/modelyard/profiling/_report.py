"""The profile as one self-contained HTML page that works offline.

Plotly's JavaScript is embedded once, in one ``<script>``; each figure is plain
Plotly JSON drawn by ``Plotly.newPlot`` (no per-figure copy of the library), so a
profile of a million rows stays a few megabytes. Every text from the data is
escaped: a column name or a category can hold anything.
"""

from __future__ import annotations

import itertools
import json
import math
from html import escape
from typing import TYPE_CHECKING, Any

from modelyard._imports import optional_dependency
from modelyard.errors import MissingDependencyError

if TYPE_CHECKING:
    from modelyard.profiling._profile import Profile

__all__ = ["render_report", "summary_html"]

# Past this many columns, per-column plots are left out (the figures stay in the JSON).
MAX_COLUMN_PLOTS = 300
_HEIGHT = 260

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;
max-width:1200px;padding:1rem 2rem;color:#222}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
td,th{padding:.2rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.warning{border-left:4px solid #d9822b;background:#fff8f0;padding:.4rem .8rem;margin:.4rem 0}
.warning code{font-size:.85em;color:#555}.note{color:#666}
.column{border:1px solid #e5e5e5;border-radius:6px;padding:.6rem 1rem;margin:1rem 0}
.grid{display:grid;grid-template-columns:minmax(280px,1fr) 2fr;gap:1rem}
.plot{min-height:120px}
"""

_DRAW = """
(function () {
  var figures = JSON.parse(document.getElementById("figures").textContent);
  Object.keys(figures).forEach(function (id) {
    var figure = figures[id];
    Plotly.newPlot(id, figure.data, figure.layout,
      {displaylogo: false, responsive: true});
  });
})();
"""


def render_report(profile: Profile) -> str:
    """The whole report: overview, warnings, columns, correlations, missing, target."""
    figures: dict[str, dict[str, Any]] = {}
    body = [
        f"<h1>Profile of {escape(profile.dataset)}</h1>",
        _overview(profile),
        _warnings(profile),
        _notes(profile),
        _columns(profile, figures),
        _correlations(profile, figures),
        _missing(profile, figures),
        _target(profile, figures),
    ]
    try:
        with optional_dependency("the profile report's plots"):
            from plotly.offline import get_plotlyjs
        scripts = (
            f"<script>{get_plotlyjs()}</script>\n"
            '<script type="application/json" id="figures">'
            + json.dumps(figures, allow_nan=False, default=str).replace("</", "<\\/")
            + f"</script>\n<script>{_DRAW}</script>"
        )
    except MissingDependencyError as exc:
        scripts = f'<p class="note">{escape(exc.message)}</p>'
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>Profile of {escape(profile.dataset)}</title><style>{_STYLE}</style></head>"
        "<body>" + "\n".join(body) + scripts + "</body></html>\n"
    )


def summary_html(profile: Profile) -> str:
    """The overview and warnings only: a notebook's view, with no script."""
    return _overview(profile) + _warnings(profile) + _notes(profile)


def _overview(profile: Profile) -> str:
    table = profile.table
    rows = [
        ("rows", f"{profile.n_rows:,}"),
        ("columns", f"{profile.n_columns:,}"),
        ("duplicate rows", _count_share(table.get("duplicate_rows"), table.get("duplicate_share"))),
        ("memory (uncompressed)", _bytes(table.get("memory_bytes"))),
        ("file size (Parquet)", _bytes(table.get("file_bytes"))),
        ("target", profile.target["column"] if profile.target else "none"),
        ("computed in", f"{profile.seconds:.2f} s"),
    ]
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    sampled = "".join(
        f"<li>{escape(s['what'])}: {escape(str(s['rows']))} rows of {escape(str(s['of']))} "
        f"({escape(s['method'])})</li>"
        for s in profile.sampling
    )
    note = f"<p class='note'>Sampled:</p><ul class='note'>{sampled}</ul>" if sampled else ""
    return f"<h2 id='overview'>Overview</h2><table>{cells}</table>{note}"


def _warnings(profile: Profile) -> str:
    if not profile.warnings:
        return "<h2 id='warnings'>Warnings</h2><p>No warnings.</p>"
    items = "".join(
        f"<div class='warning' data-kind='{escape(w.kind)}'><b>{escape(w.kind)}</b> "
        f"{escape(w.message)}<br><code>evidence {escape(_json(w.evidence))}</code><br>"
        f"<code>suggestion {escape(_json(w.suggestion))}</code></div>"
        for w in profile.warnings
    )
    return f"<h2 id='warnings'>Warnings ({len(profile.warnings)})</h2>{items}"


def _notes(profile: Profile) -> str:
    if not profile.not_computed:
        return ""
    items = "".join(
        f"<li>{escape(n['what'])}"
        + (f" ({escape(', '.join(map(str, n['columns'][:10])))}" if n.get("columns") else "")
        + (f" and {len(n['columns']) - 10} more" if len(n.get("columns") or []) > 10 else "")
        + (")" if n.get("columns") else "")
        + f": {escape(str(n['reason']))}</li>"
        for n in profile.not_computed
    )
    return f"<h2 id='not-computed'>Not computed</h2><ul>{items}</ul>"


def _columns(profile: Profile, figures: dict[str, dict[str, Any]]) -> str:
    sections = []
    plotted = profile.n_columns <= MAX_COLUMN_PLOTS
    for index, column in enumerate(profile.columns):
        figure = _column_figure(column) if plotted else None
        plot = ""
        if figure is not None:
            plot_id = f"column-{index}"
            figures[plot_id] = figure
            plot = f"<div class='plot' id='{plot_id}'></div>"
        sections.append(
            f"<div class='column' id='col-{index}'><h3>{escape(column['name'])} "
            f"<small class='note'>{escape(column['logical_type'])}"
            f"{' · ' + escape(column['role']) if column['role'] != 'feature' else ''}</small></h3>"
            f"<div class='grid'><table>{_facts(column)}</table>{plot}</div></div>"
        )
    note = (
        ""
        if plotted
        else f"<p class='note'>More than {MAX_COLUMN_PLOTS} columns: no per-column plots.</p>"
    )
    return "<h2 id='columns'>Columns</h2>" + note + "".join(sections)


def _facts(column: dict[str, Any]) -> str:
    facts: list[tuple[str, str]] = [
        ("missing", _count_share(column.get("missing"), column.get("missing_share"))),
        ("distinct", f"{column.get('distinct', 0):,}"),
    ]
    for key in ("mean", "std", "min", "max", "skew"):
        if column.get("kind") == "numeric" and column.get(key) is not None:
            facts.append((key, _number(column[key])))
    for key, value in (column.get("quantiles") or {}).items():
        facts.append((key, _number(value)))
    if column.get("zeros"):
        facts.append(("zeros", f"{column['zeros']:,}"))
    if column.get("length_mean") is not None:
        facts.append(
            (
                "length",
                f"{column.get('length_min')} / {_number(column['length_mean'])} / "
                f"{column.get('length_max')} (min / mean / max)",
            )
        )
    if column.get("kind") == "datetime" and column.get("min"):
        facts.append(("range", f"{column['min']} to {column['max']}"))
        gap = column.get("largest_gap")
        if gap:
            facts.append(("largest gap", f"{gap['days']:.1f} days, to {gap['ends_at']}"))
    for top in (column.get("top") or [])[:5]:
        facts.append((f"= {top['value']}", f"{top['count']:,}"))
    return "".join(
        f"<tr><th>{escape(k)}</th><td class='num'>{escape(v)}</td></tr>" for k, v in facts
    )


def _column_figure(column: dict[str, Any]) -> dict[str, Any] | None:
    histogram = column.get("histogram")
    if column.get("kind") == "numeric" and histogram and len(histogram["edges"]) > 1:
        edges, counts = histogram["edges"], histogram["counts"]
        centers = [a / 2 + b / 2 for a, b in itertools.pairwise(edges)]  # no overflow
        return _figure([{"type": "bar", "x": centers, "y": counts, "marker": {"color": "#4c78a8"}}])
    if column.get("kind") == "datetime" and column.get("by_month"):
        months = column["by_month"]
        return _figure([{"type": "bar", "x": list(months), "y": list(months.values())}])
    if column.get("top"):
        top = column["top"][::-1]
        return _figure(
            [
                {
                    "type": "bar",
                    "orientation": "h",
                    "y": [str(t["value"]) for t in top],
                    "x": [t["count"] for t in top],
                    "marker": {"color": "#54a24b"},
                }
            ]
        )
    return None


def _correlations(profile: Profile, figures: dict[str, dict[str, Any]]) -> str:
    parts = []
    titles = {"pearson": "Pearson", "spearman": "Spearman", "cramers_v": "Cramér's V"}
    for key, title in titles.items():
        block = profile.correlations.get(key)
        if not block:
            continue
        names = block["columns"]
        figures[f"corr-{key}"] = _figure(
            [
                {
                    "type": "heatmap",
                    "x": names,
                    "y": names,
                    "z": block["matrix"],
                    "zmin": -1 if key != "cramers_v" else 0,
                    "zmax": 1,
                    "colorscale": "RdBu",
                    "reversescale": True,
                }
            ],
            height=max(300, min(900, 24 * len(names) + 120)),
            title=title,
        )
        parts.append(f"<div class='plot' id='corr-{key}'></div>")
    ratios = sorted(
        profile.correlations.get("correlation_ratio") or [], key=lambda r: -float(r["value"])
    )[:20]
    if ratios:
        rows = "".join(
            f"<tr><td>{escape(r['categorical'])}</td><td>{escape(r['numeric'])}</td>"
            f"<td class='num'>{_number(r['value'])}</td></tr>"
            for r in ratios
        )
        parts.append(
            "<h3>Correlation ratio (categorical vs numeric), strongest first</h3>"
            f"<table><tr><th>categorical</th><th>numeric</th><th>eta</th></tr>{rows}</table>"
        )
    if not parts:
        parts.append("<p class='note'>Fewer than two columns to correlate.</p>")
    return "<h2 id='correlations'>Correlations</h2>" + "".join(parts)


def _missing(profile: Profile, figures: dict[str, dict[str, Any]]) -> str:
    missing = profile.missing
    columns = missing.get("columns") or []
    if not columns:
        return "<h2 id='missing'>Missing values</h2><p>No missing values.</p>"
    patterns = missing.get("patterns") or []
    z = [[1 if c in p["missing"] else 0 for c in columns] for p in patterns]
    figures["missing-patterns"] = _figure(
        [
            {
                "type": "heatmap",
                "x": columns,
                "y": [f"{p['rows']:,} rows" for p in patterns],
                "z": z,
                "zmin": 0,
                "zmax": 1,
                "showscale": False,
                "colorscale": [[0, "#eeeeee"], [1, "#e45756"]],
            }
        ],
        height=max(240, 28 * len(patterns) + 140),
        title="Most frequent missing-value patterns (red: missing)",
    )
    together = "".join(
        f"<li>{escape(' and '.join(t['columns']))} (nullity correlation "
        f"{_number(t['correlation'])})</li>"
        for t in missing.get("together") or []
    )
    listed = f"<p>Missing together:</p><ul>{together}</ul>" if together else ""
    return (
        "<h2 id='missing'>Missing values</h2><div class='plot' id='missing-patterns'></div>"
        + listed
    )


def _target(profile: Profile, figures: dict[str, dict[str, Any]]) -> str:
    target = profile.target
    if not target:
        return ""
    parts = [f"<h2 id='target'>Target: {escape(target['column'])} ({escape(target['task'])})</h2>"]
    classes = target.get("classes") or []
    if classes:
        figures["target-classes"] = _figure(
            [
                {
                    "type": "bar",
                    "x": [str(c["value"]) for c in classes],
                    "y": [c["count"] for c in classes],
                }
            ],
            title="Class balance",
        )
        parts.append("<div class='plot' id='target-classes'></div>")
    associations = (target.get("associations") or [])[:30]
    if associations:
        figures["target-associations"] = _figure(
            [
                {
                    "type": "bar",
                    "orientation": "h",
                    "y": [a["column"] for a in associations][::-1],
                    "x": [a["value"] for a in associations][::-1],
                    "text": [a["method"] for a in associations][::-1],
                }
            ],
            height=max(260, 22 * len(associations) + 120),
            title="Association with the target",
        )
        parts.append("<div class='plot' id='target-associations'></div>")
    return "".join(parts)


def _figure(
    data: list[dict[str, Any]], height: int = _HEIGHT, title: str | None = None
) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 40 if title else 10, "b": 40},
        "bargap": 0.05,
    }
    if title:
        layout["title"] = {"text": title}
    return {"data": data, "layout": layout}


def _json(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _number(value: Any) -> str:
    if value is None:
        return "—"
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    if number == int(number) and abs(number) < 1e15:
        return f"{int(number):,}"
    return f"{number:.4g}"


def _count_share(count: Any, share: Any) -> str:
    if count is None:
        return "—"
    return f"{int(count):,} ({float(share or 0):.1%})"


def _bytes(value: Any) -> str:
    if value is None:
        return "—"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
