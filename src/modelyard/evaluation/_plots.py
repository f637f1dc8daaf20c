"""The Plotly figures of the evaluation report, one function per figure.

Each function returns ``None`` when the evaluation lacks the data for its figure
(e.g. no ROC curve when only one class occurred), so the report shows what exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelyard.evaluation._evaluation import Evaluation

__all__ = ["figures_for"]

Figure = Any  # plotly.graph_objects.Figure; plotly is imported lazily and untyped

_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "height": 420,
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
}


def _figure(title: str, **layout: Any) -> Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.update_layout(title=title, **{**_LAYOUT, **layout})
    return fig


def _roc(ev: Evaluation) -> Figure | None:
    import plotly.graph_objects as go

    roc = ev.curves.get("roc")
    if not roc:
        return None
    auc = ev.metrics.get("roc_auc")
    title = "ROC curve" + (f" (AUC = {auc:.3f})" if auc is not None else "")
    fig = _figure(title, xaxis_title="False positive rate", yaxis_title="True positive rate")
    fig.add_trace(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dash", "color": "grey"}
        )
    )
    fig.add_trace(go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines", name="model"))
    return fig


def _pr(ev: Evaluation) -> Figure | None:
    import plotly.graph_objects as go

    pr = ev.curves.get("pr")
    if not pr:
        return None
    ap = ev.metrics.get("pr_auc")
    title = "Precision-recall curve" + (f" (AP = {ap:.3f})" if ap is not None else "")
    fig = _figure(title, xaxis_title="Recall", yaxis_title="Precision")
    fig.add_trace(go.Scatter(x=pr["recall"], y=pr["precision"], mode="lines", name="model"))
    if ev.threshold is not None:
        fig.add_trace(
            go.Scatter(
                x=[ev.threshold.recall],
                y=[ev.threshold.precision],
                mode="markers",
                marker={"size": 12, "symbol": "x"},
                name=f"threshold {ev.threshold.threshold:.3f}",
            )
        )
    return fig


def _calibration(ev: Evaluation) -> Figure | None:
    import plotly.graph_objects as go

    cal = ev.curves.get("calibration")
    if not cal:
        return None
    fig = _figure(
        "Calibration", xaxis_title="Mean predicted probability", yaxis_title="Fraction of positives"
    )
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="perfectly calibrated",
            line={"dash": "dash", "color": "grey"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=cal["mean_predicted"], y=cal["fraction_positive"], mode="lines+markers", name="model"
        )
    )
    return fig


def _threshold(ev: Evaluation) -> Figure | None:
    import plotly.graph_objects as go

    sweep = ev.curves.get("threshold_sweep")
    if not sweep or ev.threshold is None:
        return None
    fig = _figure(
        "Precision, recall and F1 by threshold",
        xaxis_title="Threshold",
        yaxis_title="Score",
        xaxis_range=[0, 1],
    )
    for key in ("precision", "recall", "f1"):
        fig.add_trace(go.Scatter(x=sweep["threshold"], y=sweep[key], mode="lines", name=key))
    fig.add_vline(
        x=ev.threshold.threshold,
        line_dash="dot",
        annotation_text=f"chosen {ev.threshold.threshold:.3f}",
    )
    return fig


def _confusion(ev: Evaluation) -> Figure | None:
    import plotly.graph_objects as go

    if ev.confusion_matrix is None or ev.labels is None:
        return None
    fig = _figure(
        "Confusion matrix",
        xaxis_title="Predicted",
        yaxis_title="Actual",
        yaxis_autorange="reversed",
    )
    fig.add_trace(
        go.Heatmap(
            z=ev.confusion_matrix,
            x=ev.labels,
            y=ev.labels,
            colorscale="Blues",
            text=ev.confusion_matrix,
            texttemplate="%{text}",
            hoverongaps=False,
        )
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def _per_class_f1(ev: Evaluation) -> Figure | None:
    import plotly.graph_objects as go

    if not ev.per_class:
        return None
    fig = _figure("F1 per class", xaxis_title="Class", yaxis_title="F1", yaxis_range=[0, 1])
    labels = list(ev.per_class)
    fig.add_trace(go.Bar(x=labels, y=[ev.per_class[c]["f1"] for c in labels], name="F1"))
    fig.update_xaxes(type="category")
    return fig


def _importance(ev: Evaluation) -> Figure | None:
    import plotly.graph_objects as go

    if not ev.importance:
        return None
    rows = ev.importance[:30][::-1]  # the most important at the top of the bar chart
    fig = _figure(
        "Permutation importance",
        xaxis_title="Mean score drop when the column is shuffled",
        height=max(300, 40 + 24 * len(rows)),
    )
    fig.add_trace(
        go.Bar(
            x=[row["mean"] for row in rows],
            y=[str(row["feature"]) for row in rows],
            orientation="h",
            error_x={"type": "data", "array": [row["std"] for row in rows]},
        )
    )
    fig.update_yaxes(type="category")
    return fig


def _predicted_vs_actual(ev: Evaluation) -> Figure | None:
    import plotly.graph_objects as go

    data = ev.curves.get("residuals")
    if not data:
        return None
    lo = min(min(data["actual"]), min(data["predicted"]))
    hi = max(max(data["actual"]), max(data["predicted"]))
    fig = _figure("Predicted vs actual", xaxis_title="Actual", yaxis_title="Predicted")
    fig.add_trace(
        go.Scatter(
            x=data["actual"],
            y=data["predicted"],
            mode="markers",
            marker={"size": 5, "opacity": 0.6},
            name="rows",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[lo, hi],
            y=[lo, hi],
            mode="lines",
            name="perfect",
            line={"dash": "dash", "color": "grey"},
        )
    )
    return fig


def _residuals(ev: Evaluation) -> Figure | None:
    import plotly.graph_objects as go

    data = ev.curves.get("residuals")
    if not data:
        return None
    fig = _figure(
        "Residuals vs predicted",
        xaxis_title="Predicted",
        yaxis_title="Residual (actual - predicted)",
    )
    fig.add_trace(
        go.Scatter(
            x=data["predicted"],
            y=data["residual"],
            mode="markers",
            marker={"size": 5, "opacity": 0.6},
            name="rows",
        )
    )
    fig.add_hline(y=0, line_dash="dash", line_color="grey")
    return fig


def _residual_histogram(ev: Evaluation) -> Figure | None:
    import plotly.graph_objects as go

    data = ev.curves.get("residuals")
    if not data:
        return None
    fig = _figure(
        "Residual distribution", xaxis_title="Residual (actual - predicted)", yaxis_title="Rows"
    )
    fig.add_trace(go.Histogram(x=data["residual"], nbinsx=40, name="residuals"))
    return fig


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
