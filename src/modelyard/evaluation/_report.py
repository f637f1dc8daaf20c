"""The evaluation report: one self-contained HTML page with interactive Plotly plots.

The page embeds Plotly's JavaScript inline once, so it opens offline, from an
artifact store, or attached to an e-mail, with no CDN. Every piece of text comes
from users (titles, column names, class labels, parameters) and is escaped; the
figure data is JSON that Plotly escapes for embedding in a script tag.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from modelyard._imports import optional_dependency
from modelyard.errors import MissingDependencyError
from modelyard.evaluation._evaluation import Evaluation
from modelyard.evaluation._metrics import METRICS
from modelyard.evaluation._plots import figures_for

__all__ = ["render_report"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #0a7a2f; font-weight: 600; }
.fail { color: #b00020; font-weight: 600; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 1rem; }
.plot { min-height: 420px; min-width: 0; overflow: hidden; border: 1px solid #eee; }
.note { color: #555; }
"""


def _fmt(value: Any) -> str:
    """Numbers to a readable width; containers to JSON; everything else to str."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e6 else f"{value:,.1f}"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


def _context_table(context: dict[str, Any]) -> str:
    rows = [
        f"<tr><th>{escape(str(key))}</th><td>{escape(_fmt(value))}</td></tr>"
        for key, value in context.items()
        if key != "criteria"
    ]
    if not rows:
        return ""
    return '<h2>Context</h2>\n<table class="context">' + "".join(rows) + "</table>"


def _metrics_table(ev: Evaluation) -> str:
    """The model's metrics, each beside the trivial baselines' figure on the same rows."""
    rows = []
    for name, value in ev.metrics.items():
        info = METRICS.get(name)
        direction = "" if info is None else ("↑" if info.greater_is_better else "↓")
        description = "" if info is None else info.description
        baselines = "".join(
            f"<td class='num'>{escape(_fmt(figures[name])) if name in figures else ''}</td>"
            for figures in ev.baselines.values()
        )
        rows.append(
            f"<tr><th>{escape(name)}</th><td class='num'>{escape(_fmt(value))}</td>"
            f"{baselines}<td>{direction}</td><td>{escape(description)}</td></tr>"
        )
    trivial = "".join(f"<th>{escape(name)} (trivial)</th>" for name in ev.baselines)
    head = f"<tr><th>Metric</th><th>Model</th>{trivial}<th></th><th>Meaning</th></tr>"
    note = (
        '<p class="note">A trivial baseline ignores the features: it predicts the training '
        "split's class shares (prior) or its mean or median target.</p>"
        if ev.baselines
        else ""
    )
    return '<h2>Metrics</h2>\n<table class="metrics">' + head + "".join(rows) + "</table>" + note


def _criteria_table(context: dict[str, Any]) -> str:
    criteria = context.get("criteria")
    if not criteria:
        return ""
    rows = []
    for item in criteria:
        passed = bool(item.get("passed"))
        verdict = '<span class="pass">PASS</span>' if passed else '<span class="fail">FAIL</span>'
        rows.append(
            f"<tr><td>{verdict}</td><td>{escape(str(item.get('text', '')))}</td>"
            f"<td>{escape(str(item.get('message', '')))}</td></tr>"
        )
    overall = all(bool(item.get("passed")) for item in criteria)
    summary = (
        '<p class="pass">All success criteria passed.</p>'
        if overall
        else '<p class="fail">Some success criteria failed.</p>'
    )
    head = "<tr><th>Result</th><th>Criterion</th><th>Detail</th></tr>"
    return (
        '<h2>Success criteria</h2>\n<table class="criteria">'
        + head
        + "".join(rows)
        + "</table>"
        + summary
    )


_CHOSEN_ON = {
    "evaluation": "these rows (which flatters the figures measured on them)",
    "validation": "the validation split",
    "out-of-fold": "out-of-fold predictions on the training split",
    "fixed": "no rows (a fixed cut)",
}


def _threshold_note(ev: Evaluation) -> str:
    t = ev.threshold
    if t is None or ev.labels is None:
        return ""
    positive = ev.labels[1]
    reached = (
        ""
        if t.target_reached
        else " The target could not be reached on these rows; the closest threshold is used."
    )
    return (
        '<h2>Decision threshold</h2>\n<p class="threshold">'
        f"Rows with a probability of <b>{escape(positive)}</b> at or above "
        f"<b>{t.threshold:.4f}</b> are predicted as {escape(positive)}. "
        f"The threshold was chosen by the strategy <code>{escape(t.strategy)}</code> "
        f"on {escape(_CHOSEN_ON.get(t.chosen_on, t.chosen_on))}: precision "
        f"{t.precision:.3f}, recall {t.recall:.3f}, F1 {t.f1:.3f} there. Accuracy, "
        "precision, recall, F1 and the confusion matrix above use it."
        f"{escape(reached)}</p>"
    )


def _per_class_table(ev: Evaluation) -> str:
    if not ev.per_class:
        return ""
    rows = [
        f"<tr><th>{escape(label)}</th>"
        + "".join(
            f"<td class='num'>{escape(_fmt(values[key]))}</td>"
            for key in ("precision", "recall", "f1")
        )
        + f"<td class='num'>{int(values['support'])}</td></tr>"
        for label, values in ev.per_class.items()
    ]
    head = "<tr><th>Class</th><th>Precision</th><th>Recall</th><th>F1</th><th>Support</th></tr>"
    return '<h2>Per class</h2>\n<table class="per-class">' + head + "".join(rows) + "</table>"


def _plots_section(evaluation: Evaluation) -> tuple[str, str]:
    """The plots' HTML and the script that draws them (Plotly's, embedded whole).

    Without the ``reports`` extra the report is still written, with a note naming
    the extra in place of the plots: a model is trained and registered all the same.
    """
    try:
        with optional_dependency("the report's plots"):
            import plotly.io as pio
            from plotly.offline import get_plotlyjs
    except MissingDependencyError as exc:
        return f'<h2>Plots</h2>\n<p class="note">{escape(exc.message)}</p>', ""
    plots = []
    for plot_id, fig in figures_for(evaluation):
        inner = pio.to_html(
            fig,
            validate=False,  # the figures are plain JSON, checked against the schema in tests
            full_html=False,
            include_plotlyjs=False,
            div_id=f"{plot_id}-graph",
            config={"displaylogo": False, "responsive": True},
        )
        plots.append(f'<div class="plot" id="{escape(plot_id)}">{inner}</div>')
    section = '<h2>Plots</h2>\n<div class="plots">' + "\n".join(plots) + "</div>" if plots else ""
    return section, f"<script type='text/javascript'>{get_plotlyjs()}</script>\n"


def render_report(evaluation: Evaluation, *, title: str, context: dict[str, Any]) -> str:
    """Render ``evaluation`` as one self-contained HTML page.

    The page holds the title, a table of ``context`` (model, dataset, split,
    algorithm, params: whatever is given), the metrics, the success criteria when
    ``context["criteria"]`` is a list of ``{"text", "passed", "message"}``, and the
    plots for the task, each in a ``<div class="plot" id="...">``. Plotly's
    JavaScript is embedded once, so the page works offline.

    Args:
        evaluation: the result to show.
        title: the page title, e.g. the model name and version.
        context: what was evaluated; rendered as a key/value table.

    Returns:
        The HTML document as a string.
    """
    plots, script = _plots_section(evaluation)
    body = "\n".join(
        part
        for part in (
            f"<h1>{escape(title)}</h1>",
            f'<p class="note">Task: {escape(evaluation.task)}</p>',
            _context_table(context),
            _criteria_table(context),
            _metrics_table(evaluation),
            _threshold_note(evaluation),
            _per_class_table(evaluation),
            plots,
        )
        if part
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{escape(title)}</title>\n"
        "<link rel='icon' href='data:,'>\n"
        f"<style>{_CSS}</style>\n"
        f"{script}"
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
