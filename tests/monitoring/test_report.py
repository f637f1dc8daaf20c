"""The monitor's report: HTML with Plotly once, its JSON, and a render in headless Chromium."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from modelyard import datasets
from modelyard.workspace import Workspace
from tests.browser import OFFLINE, chromium
from tests.monitoring.conftest import FIRST_HOUR, capture


def _report(ws: Workspace, endpoint: str, tmp_path: Path) -> Path:
    ids = []
    frames = []
    for k in range(3):
        frame = datasets.churn(500, seed=110 + k)
        if k == 2:
            frame["monthly_charges"] = frame["monthly_charges"] * 1.6
            frame["contract"] = "<b>[bold]"  # text from traffic is data, never markup
        ids += capture(ws, endpoint, frame, FIRST_HOUR + timedelta(hours=k))
        frames.append(frame)
    ws.monitors.create(endpoint)
    ws.monitors.run(endpoint)
    labels = tmp_path / "labels.csv"
    truth = pd.concat(frames)["churned"].to_list()
    pd.DataFrame({"inference_id": ids[::2], "label": truth[::2]}).to_csv(labels, index=False)
    ws.monitors.ingest_labels(labels, endpoint)
    return ws.monitors.write_report(endpoint, tmp_path / "report")


def test_the_report_holds_plotly_once_and_the_same_content_as_json(
    ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    page = _report(ws, endpoint, tmp_path)
    html = page.read_text()
    assert html.count("<script>") == 2  # Plotly once, then the drawing code
    assert "&lt;b&gt;[bold]" in html and "<b>[bold]" not in html.split("<script")[0]
    document = json.loads((page.parent / "report.json").read_text())
    assert len(document["history"]) == 3
    assert {"drift:monthly_charges", "categorical_values_check:contract"} <= {
        v["key"] for v in document["history"][2]["violations"]
    }
    assert sum(q["realised"]["labelled"] for q in document["quality"]) == 750


@pytest.mark.slow
def test_the_report_renders_in_headless_chromium_with_no_console_error(
    ws: Workspace, endpoint: str, tmp_path: Path
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    page = _report(ws, endpoint, tmp_path)
    script = (
        "const plots = document.querySelectorAll('div.plot');"
        "return [plots.length,"
        " Array.from(plots).filter(d => d.querySelector('svg.main-svg')).length];"
    )
    with chromium(OFFLINE) as driver:
        driver.get(page.as_uri())
        WebDriverWait(driver, 60).until(
            lambda d: (counts := d.execute_script(script))[0] == counts[1] > 0
        )
        total, rendered = driver.execute_script(script)
        # drift over time, quality over time, and one per drifted feature
        assert total == rendered >= 4
        severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert severe == [], severe
        shot = tmp_path / "monitor.png"
        assert driver.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
