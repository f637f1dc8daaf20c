"""The HTML report: content, escaping, and rendering in a real headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from modelyard.evaluation import (
    Criterion,
    Evaluation,
    check_criteria,
    evaluate_classification,
    evaluate_regression,
    render_report,
)
from tests.browser import chromium

EVIL = "<script>alert('x')</script>"
IMPORTANCE: list[dict[str, float | str]] = [
    {"feature": "signal", "mean": 0.3, "std": 0.02},
    {"feature": EVIL, "mean": 0.01, "std": 0.01},
]


def _binary_evaluation() -> Evaluation:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.clip(0.35 * y + 0.65 * rng.random(500), 0, 1)
    ev = evaluate_classification(np.where(y == 1, "yes", EVIL), np.c_[1 - p, p], [EVIL, "yes"])
    ev.importance = IMPORTANCE
    return ev


def _multiclass_evaluation() -> Evaluation:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 200)
    ev = evaluate_classification(y, rng.dirichlet([1, 1, 1], size=200), [0, 1, 2])
    ev.importance = IMPORTANCE
    return ev


def _regression_evaluation() -> Evaluation:
    rng = np.random.default_rng(2)
    y = rng.normal(50_000, 10_000, 3000)
    ev = evaluate_regression(y, y + rng.normal(0, 3000, 3000))
    ev.importance = IMPORTANCE
    return ev


def _context(ev: Evaluation, *criteria: str) -> dict[str, object]:
    parsed = [Criterion.parse(text, ev.task) for text in criteria]
    _, messages = check_criteria(parsed, ev.metrics)
    results = [
        {"text": text, "passed": c.check(ev.metrics)[0], "message": m}
        for text, c, m in zip(criteria, parsed, messages, strict=True)
    ]
    return {
        "model": "churn v3",
        "dataset": "churn:2",
        "split": "test",
        "algorithm": "logistic_regression",
        "params": {"C": 1.0, "note": EVIL},
        "criteria": results,
    }


def _plot_ids(html: str) -> list[str]:
    return re.findall(r'<div class="plot" id="([^"]+)">', html)


def test_binary_report_contents() -> None:
    ev = _binary_evaluation()
    html = render_report(
        ev, title=f"Report {EVIL}", context=_context(ev, "roc_auc>=0.5", "f1>0.99")
    )
    assert html.startswith("<!DOCTYPE html>")
    assert _plot_ids(html) == [
        "roc",
        "pr",
        "calibration",
        "confusion-matrix",
        "threshold",
        "importance",
    ]
    assert html.count("* plotly.js v") == 1  # embedded once
    assert "<script src" not in html  # nothing fetched: works offline
    assert EVIL not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "logistic_regression" in html and "churn:2" in html
    assert 'class="pass"' in html and "f1 " in html and "is not &gt; 0.99" in html
    assert "Decision threshold" in html and "roc_auc" in html


def test_multiclass_and_regression_report_plots() -> None:
    multi = _multiclass_evaluation()
    html = render_report(multi, title="multi", context={})
    assert _plot_ids(html) == ["confusion-matrix", "per-class-f1", "importance"]
    assert "<h2>Context</h2>" not in html and "<h2>Success criteria</h2>" not in html
    reg = _regression_evaluation()
    html = render_report(reg, title="reg", context=_context(reg, "rmse < 30000"))
    assert _plot_ids(html) == [
        "predicted-vs-actual", "residuals", "residual-histogram", "importance"
    ]  # fmt: skip
    assert "rmse" in html and "All success criteria passed." in html


def test_report_skips_plots_without_data() -> None:
    p = np.array([0.2, 0.7, 0.9])
    ev = evaluate_classification([1, 1, 1], np.c_[1 - p, p], [0, 1])
    assert _plot_ids(render_report(ev, title="t", context={})) == [
        "pr", "confusion-matrix", "threshold"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "make", [_binary_evaluation, _multiclass_evaluation, _regression_evaluation]
)
def test_every_figure_is_valid_plotly(make: object) -> None:
    """The figures are plain JSON; Plotly's own schema checks each property here."""
    import plotly.graph_objects as go

    from modelyard.evaluation._plots import figures_for

    figures = figures_for(make())  # type: ignore[operator]
    assert figures
    for plot_id, figure in figures:
        checked = go.Figure(figure)  # raises ValueError on an unknown or ill-typed property
        assert len(checked.data) == len(figure["data"]) >= 1, plot_id
        assert checked.layout.title.text == figure["layout"]["title"]["text"]


def test_confusion_matrix_is_darkest_where_counts_are_largest() -> None:
    """Plotly.js reads the name "Blues" dark-to-light; the figure spells the scale out."""
    import plotly.graph_objects as go

    from modelyard.evaluation._plots import figures_for

    figure = dict(figures_for(_binary_evaluation()))["confusion-matrix"]
    scale = figure["data"][0]["colorscale"]
    assert scale == [list(step) for step in go.Heatmap(colorscale="Blues").colorscale]
    assert scale[0][1] == "rgb(247,251,255)" and scale[-1][1] == "rgb(8,48,107)"


@pytest.mark.slow
def test_reports_render_in_headless_chromium(tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    binary, regression = _binary_evaluation(), _regression_evaluation()
    pages = {
        "binary": (
            render_report(binary, title="binary", context=_context(binary, "roc_auc>=0.5")),
            6,
        ),
        "regression": (render_report(regression, title="regression", context={}), 4),
    }
    script = (
        "const plots = document.querySelectorAll('div.plot');"
        "return [plots.length,"
        " Array.from(plots).filter(d => d.querySelector('svg.main-svg')).length];"
    )
    with chromium() as driver:
        for name, (html, expected) in pages.items():
            page = tmp_path / f"{name}.html"
            page.write_text(html, encoding="utf-8")
            driver.get(page.as_uri())
            WebDriverWait(driver, 30).until(
                lambda d: (counts := d.execute_script(script))[0] == counts[1] > 0
            )
            total, rendered = driver.execute_script(script)
            assert total == rendered == expected
            severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
            assert severe == [], severe
            shot = tmp_path / f"{name}.png"
            assert driver.save_screenshot(str(shot))
            data = shot.read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
