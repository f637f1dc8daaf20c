"""The searches' HTML pages, each self-contained (Plotly embedded once, so it opens
offline): the spot-check's leaderboard (the table, each algorithm's fold scores,
score against fit time) and a tuning study's report (optimisation history,
parameter importances, parallel coordinates, the best trial). Names and reasons
come from users and libraries and are escaped."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any

from modelyard._imports import optional_dependency
from modelyard.errors import MissingDependencyError

if TYPE_CHECKING:
    from modelyard.automl._leaderboard import Leaderboard
    from modelyard.automl._tune import TuneResult

__all__ = ["LEADERBOARD_ARTIFACT", "STUDY_ARTIFACT", "render_leaderboard", "render_study"]

LEADERBOARD_ARTIFACT = "leaderboard.html"
STUDY_ARTIFACT = "study.html"

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: left; }
th { background: #f5f5f5; }
.plot { min-height: 420px; border: 1px solid #eee; margin-bottom: 1rem; }
.note { color: #555; }
"""


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _table(board: Leaderboard) -> str:
    head = "".join(
        f"<th>{escape(h)}</th>"
        for h in ("#", "algorithm", f"{board.metric} mean", "std", "fit s", "predict s", "status")
    )
    rows = []
    for rank, entry in enumerate(board.ranked(), 1):
        status = entry.status
        if entry.errors:
            status += ": " + "; ".join(f"fold {k}: {v}" for k, v in sorted(entry.errors.items()))
        cells = (
            str(rank),
            entry.algorithm,
            _number(entry.mean(board.metric)),
            _number(entry.std(board.metric)),
            _number(entry.fit_seconds),
            _number(entry.predict_seconds),
            status,
        )
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def figures(board: Leaderboard) -> list[tuple[str, dict[str, Any]]]:
    """``(id, figure)``: the fold scores per algorithm (a box each) and mean score
    against fit time, as plain Plotly JSON."""
    metric = board.metric
    ranked = [e for e in board.ranked() if e.scores]
    spread = {
        "data": [
            {
                "type": "box",
                "name": e.algorithm,
                "y": [s[metric] for s in e.scores.values() if metric in s],
                "boxpoints": "all",
            }
            for e in ranked
        ],
        "layout": {"title": {"text": f"{metric} per fold"}, "showlegend": False},
    }
    cost = {
        "data": [
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": [e.fit_seconds for e in ranked],
                "y": [e.mean(metric) for e in ranked],
                "text": [e.algorithm for e in ranked],
                "textposition": "top center",
            }
        ],
        "layout": {
            "title": {"text": f"mean {metric} against fit time"},
            "xaxis": {"title": {"text": "fit seconds (all folds)"}, "type": "log"},
            "yaxis": {"title": {"text": metric}},
        },
    }
    return [("spread", spread), ("cost", cost)]


def render_leaderboard(board: Leaderboard) -> str:
    """The page; without the ``reports`` extra, the table and a note naming it."""
    note = f"{board.rows:,} rows, task {escape(board.task)}, primary metric {escape(board.metric)}"
    return _page(f"Spot-check of {board.dataset}", note, _table(board), lambda: figures(board))


def study_figures(study: Any) -> list[tuple[str, dict[str, Any]]]:
    """``(id, figure)``: Optuna's optimisation history, parameter importances (from
    two finished trials: one gives nothing to compare) and parallel coordinates."""
    import warnings

    from optuna.trial import TrialState
    from optuna.visualization import (
        plot_optimization_history,
        plot_parallel_coordinate,
        plot_param_importances,
    )

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return []
    plots: list[tuple[str, Callable[[Any], Any]]] = [("history", plot_optimization_history)]
    if len(complete) >= 2:
        plots.append(("importance", plot_param_importances))
    plots.append(("parallel", plot_parallel_coordinate))
    shown = []
    with warnings.catch_warnings():  # few trials: importances equal, said on the page
        warnings.simplefilter("ignore", UserWarning)
        for plot_id, plot in plots:
            shown.append((plot_id, plot(study).to_plotly_json()))
    return shown


def render_study(study: Any, result: TuneResult) -> str:
    """A tuning study's page: its trials' counts, the best trial, and the plots."""
    best = "-" if result.best_value is None else f"{result.best_value:.4g}"
    note = (
        f"{escape(result.algorithm)} on {escape(result.dataset)}, task {escape(result.task)}: "
        f"{result.finished} finished, {result.pruned} pruned, {result.failed} failed trials; "
        f"best {escape(result.metric)} {best}"
    )
    rows = "".join(
        f"<tr><td>{escape(str(k))}</td><td>{escape(str(v))}</td></tr>"
        for k, v in result.best_params.items()
    )
    body = f"<h2>Best parameters</h2><table><tr><th>parameter</th><th>value</th></tr>{rows}</table>"
    if result.finished < 2:
        body += '<p class="note">parameter importances need two finished trials</p>'
    return _page(f"Tuning study {result.study}", note, body, lambda: study_figures(study))


def _page(
    title: str,
    note: str,
    body: str,
    plotted: Callable[[], list[tuple[str, dict[str, Any]]]],
) -> str:
    """The page around ``body`` (already escaped) with ``plotted``'s figures; without
    the ``reports`` extra, a note naming it instead of the plots."""
    try:
        with optional_dependency("the report's plots"):
            import plotly.io as pio
            from plotly.offline import get_plotlyjs
    except MissingDependencyError as exc:
        plots, script = f'<p class="note">{escape(exc.message)}</p>', ""
    else:
        plots = "".join(
            '<div class="plot">'
            + pio.to_html(
                figure,
                validate=False,
                full_html=False,
                include_plotlyjs=False,
                div_id=f"{plot_id}-graph",
                config={"displaylogo": False, "responsive": True},
            )
            + "</div>"
            for plot_id, figure in plotted()
        )
        script = f"<script type='text/javascript'>{get_plotlyjs()}</script>"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_CSS}</style>{script}</head><body><h1>{escape(title)}</h1>"
        f"<p class='note'>{note}</p>{body}{plots}</body></html>"
    )
