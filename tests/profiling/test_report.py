"""The HTML report: self-contained, Plotly once, and drawn by a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard import Workspace
from modelyard.data import IngestOptions
from tests.browser import OFFLINE, chromium
from tests.profiling._tables import mixed, planted


def _report(workspace: Workspace) -> Path:
    table = planted().append_column("name", [[f"<b>[bold]{i}</b>" for i in range(3_000)]])
    version, _ = workspace.datasets.ingest_table(
        table, "planted", IngestOptions(target="y", split=None)
    )
    path = workspace.datasets.profile(version).report_path
    assert path is not None
    return path


def test_report_embeds_plotly_once_and_escapes_the_data(workspace: Workspace) -> None:
    html = _report(workspace).read_text(encoding="utf-8")
    assert html.count("<script") == 3  # Plotly, the figures' JSON, the code that draws them
    body = html.split("<script")[0]
    assert html.count("Plotly.newPlot") == 1 and "https://" not in body
    # the page outside the scripts shows data as text; in the figures' JSON, "</" is
    # written "<\/" so no value can close the script element
    assert "<b>[bold]" not in body and "&lt;b&gt;[bold]" in body
    assert "</b>" not in html.split('id="figures">')[1].split("</script>")[0]
    for section in ("overview", "warnings", "columns", "correlations", "missing", "target"):
        assert f"id='{section}'" in html


@pytest.mark.slow
def test_report_renders_offline_in_headless_chromium(workspace: Workspace, tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    page = _report(workspace)
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
        # one per column with a plot, three correlation heatmaps, missing patterns,
        # class balance and target associations
        assert total == rendered >= 15
        heatmaps = driver.execute_script("return document.querySelectorAll('g.hm').length")
        assert heatmaps >= 3
        severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert severe == [], severe
        shot = tmp_path / "profile.png"
        assert driver.save_screenshot(str(shot))
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


@pytest.mark.slow
def test_report_of_a_million_rows_is_under_ten_megabytes(workspace: Workspace) -> None:
    """Issue 21's size goal on its own table shape; slow (about 6 s of CPU, 1,000,000 rows).

    The report's figures are binned and capped, so its size does not grow with the rows;
    this pins it at the size the issue names rather than trusting that by argument.
    """
    version, _ = workspace.datasets.ingest_table(
        mixed(1_000_000), "million", IngestOptions(target="flag", split=None)
    )
    profile = workspace.datasets.profile(version)
    assert profile.n_rows == 1_000_000 and profile.n_columns == 30
    assert profile.report_path is not None
    size = profile.report_path.stat().st_size
    assert size < 10_000_000, f"the report of 1,000,000 rows is {size:,} bytes"
