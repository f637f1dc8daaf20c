"""The Plotly figures of the evaluation report, one function per figure.

Figures are plain Plotly JSON (``{"data": [...], "layout": {...}}``), not
``plotly.graph_objects`` figures: building graph objects validates and deep-copies
every property, which cost about half a second per report, a third of a training
job's overhead on a 200-tree model. The tests check every figure against Plotly's
schema instead (``plotly.graph_objects.Figure(figure)`` raises on a bad property).

Each function returns ``None`` when the evaluation lacks the data for its figure
(e.g. no ROC curve when only one class occurred), so the report shows what exists.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from modelyard.evaluation._evaluation import Evaluation

__all__ = ["Figure", "figures_for"]

Figure = dict[str, Any]
"""A Plotly figure as JSON: ``{"data": [traces], "layout": {...}}``."""

_LAYOUT: dict[str, Any] = {
    "height": 420,
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
}
_DASHED_GREY = {"dash": "dash", "color": "grey"}


@functools.cache
def _template() -> dict[str, Any]:
    """The ``plotly_white`` template, expanded once (Plotly.js knows no template names)."""
    import plotly.io as pio

    template: dict[str, Any] = pio.templates["plotly_white"].to_plotly_json()
    return template


@functools.cache
def _blues() -> list[list[Any]]:
    """Light to dark blue as plotly.py means "Blues" (Plotly.js's own "Blues" runs
    the other way, which would paint the largest cells palest)."""
    from plotly.colors import make_colorscale, sequential

    scale: list[list[Any]] = make_colorscale(sequential.Blues)
    return scale


def _axis(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title}, **extra}


def _figure(
    title: str,
    traces: list[dict[str, Any]],
    *,
    xaxis: dict[str, Any] | None = None,
    yaxis: dict[str, Any] | None = None,
    **layout: Any,
) -> Figure:
    return {
        "data": traces,
        "layout": {
            **_LAYOUT,
            "template": _template(),
            "title": {"text": title},
            "xaxis": xaxis or {},
            "yaxis": yaxis or {},
            **layout,
        },
    }


def _line(x: Any, y: Any, name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "scatter", "x": x, "y": y, "mode": "lines", "name": name, **extra}


def _chance() -> dict[str, Any]:
    return _line([0, 1], [0, 1], "chance", line=_DASHED_GREY)


def _roc(ev: Evaluation) -> Figure | None:
    roc = ev.curves.get("roc")
    if not roc:
        return None
    auc = ev.metrics.get("roc_auc")
    title = "ROC curve" + (f" (AUC = {auc:.3f})" if auc is not None else "")
    return _figure(
        title,
        [_chance(), _line(roc["fpr"], roc["tpr"], "model")],
        xaxis=_axis("False positive rate"),
        yaxis=_axis("True positive rate"),
    )


def _pr(ev: Evaluation) -> Figure | None:
    pr = ev.curves.get("pr")
    if not pr:
        return None
    ap = ev.metrics.get("pr_auc")
    title = "Precision-recall curve" + (f" (AP = {ap:.3f})" if ap is not None else "")
    traces = [_line(pr["recall"], pr["precision"], "model")]
    if ev.threshold is not None:
        traces.append(
            {
                "type": "scatter",
                "x": [ev.threshold.recall],
                "y": [ev.threshold.precision],
                "mode": "markers",
                "marker": {"size": 12, "symbol": "x"},
                "name": f"threshold {ev.threshold.threshold:.3f}",
            }
        )
    return _figure(title, traces, xaxis=_axis("Recall"), yaxis=_axis("Precision"))


def _calibration(ev: Evaluation) -> Figure | None:
    cal = ev.curves.get("calibration")
    if not cal:
        return None
    traces = [
        _line([0, 1], [0, 1], "perfectly calibrated", line=_DASHED_GREY),
        _line(cal["mean_predicted"], cal["fraction_positive"], "model", mode="lines+markers"),
    ]
    return _figure(
        "Calibration",
        traces,
        xaxis=_axis("Mean predicted probability"),
        yaxis=_axis("Fraction of positives"),
    )


def _threshold(ev: Evaluation) -> Figure | None:
    sweep = ev.curves.get("threshold_sweep")
    if not sweep or ev.threshold is None:
        return None
    chosen = ev.threshold.threshold
    traces = [_line(sweep["threshold"], sweep[key], key) for key in ("precision", "recall", "f1")]
    return _figure(
        "Precision, recall and F1 by threshold",
        traces,
        xaxis=_axis("Threshold", range=[0, 1]),
        yaxis=_axis("Score"),
        # A vertical line at the chosen threshold, spanning the plot's height.
        shapes=[
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": chosen,
                "x1": chosen,
                "y0": 0,
                "y1": 1,
                "line": {"dash": "dot"},
            }
        ],
        annotations=[
            {
                "x": chosen,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "text": f"chosen {chosen:.3f}",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
            }
        ],
    )


def _confusion(ev: Evaluation) -> Figure | None:
    if ev.confusion_matrix is None or ev.labels is None:
        return None
    heatmap = {
        "type": "heatmap",
        "z": ev.confusion_matrix,
        "x": ev.labels,
        "y": ev.labels,
        "colorscale": _blues(),
        "text": ev.confusion_matrix,
        "texttemplate": "%{text}",
        "hoverongaps": False,
    }
    return _figure(
        "Confusion matrix",
        [heatmap],
        xaxis=_axis("Predicted", type="category"),
        yaxis=_axis("Actual", type="category", autorange="reversed"),
    )


def _per_class_f1(ev: Evaluation) -> Figure | None:
    if not ev.per_class:
        return None
    labels = list(ev.per_class)
    bars = {"type": "bar", "x": labels, "y": [ev.per_class[c]["f1"] for c in labels], "name": "F1"}
    return _figure(
        "F1 per class",
        [bars],
        xaxis=_axis("Class", type="category"),
        yaxis=_axis("F1", range=[0, 1]),
    )


def _importance(ev: Evaluation) -> Figure | None:
    if not ev.importance:
        return None
    rows = ev.importance[:30][::-1]  # the most important at the top of the bar chart
    bars = {
        "type": "bar",
        "x": [row["mean"] for row in rows],
        "y": [str(row["feature"]) for row in rows],
        "orientation": "h",
        "error_x": {"type": "data", "array": [row["std"] for row in rows]},
    }
    return _figure(
        "Permutation importance",
        [bars],
        xaxis=_axis("Mean score drop when the column is shuffled"),
        yaxis={"type": "category"},
        height=max(300, 40 + 24 * len(rows)),
    )


def _markers(x: Any, y: Any) -> dict[str, Any]:
    return {
        "type": "scatter",
        "x": x,
        "y": y,
        "mode": "markers",
        "marker": {"size": 5, "opacity": 0.6},
        "name": "rows",
    }


def _predicted_vs_actual(ev: Evaluation) -> Figure | None:
    data = ev.curves.get("residuals")
    if not data:
        return None
    lo = min(min(data["actual"]), min(data["predicted"]))
    hi = max(max(data["actual"]), max(data["predicted"]))
    traces = [
        _markers(data["actual"], data["predicted"]),
        _line([lo, hi], [lo, hi], "perfect", line=_DASHED_GREY),
    ]
    return _figure("Predicted vs actual", traces, xaxis=_axis("Actual"), yaxis=_axis("Predicted"))


def _residuals(ev: Evaluation) -> Figure | None:
    data = ev.curves.get("residuals")
    if not data:
        return None
    return _figure(
        "Residuals vs predicted",
        [_markers(data["predicted"], data["residual"])],
        xaxis=_axis("Predicted"),
        yaxis=_axis("Residual (actual - predicted)"),
        # A horizontal line at zero residual, spanning the plot's width.
        shapes=[
            {
                "type": "line",
                "xref": "paper",
                "yref": "y",
                "x0": 0,
                "x1": 1,
                "y0": 0,
                "y1": 0,
                "line": {"dash": "dash", "color": "grey"},
            }
        ],
    )


def _residual_histogram(ev: Evaluation) -> Figure | None:
    data = ev.curves.get("residuals")
    if not data:
        return None
    histogram = {"type": "histogram", "x": data["residual"], "nbinsx": 40, "name": "residuals"}
    return _figure(
        "Residual distribution",
        [histogram],
        xaxis=_axis("Residual (actual - predicted)"),
        yaxis=_axis("Rows"),
    )


_PLOTS: dict[str, list[tuple[str, Callable[[Evaluation], Figure | None]]]] = {
    "binary": [
        ("roc", _roc),
        ("pr", _pr),
        ("calibration", _calibration),
        ("confusion-matrix", _confusion),
        ("threshold", _threshold),
        ("importance", _importance),
    ],
    "multiclass": [
        ("confusion-matrix", _confusion),
        ("per-class-f1", _per_class_f1),
        ("importance", _importance),
    ],
    "regression": [
        ("predicted-vs-actual", _predicted_vs_actual),
        ("residuals", _residuals),
        ("residual-histogram", _residual_histogram),
        ("importance", _importance),
    ],
}


def figures_for(ev: Evaluation) -> list[tuple[str, Figure]]:
    """``(plot id, figure)`` for every figure the evaluation has data for, in report order."""
    out: list[tuple[str, Figure]] = []
    for plot_id, make in _PLOTS[ev.task]:
        fig = make(ev)
        if fig is not None:
            out.append((plot_id, fig))
    return out
