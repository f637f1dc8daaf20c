"""The pages the other capabilities plug in, in headless Chromium on a workspace that
holds them: a spot-check's leaderboard and a tuning study (Tuning), a pipeline run's
DAG (Pipelines), a dataset's profile and a monitor; no console errors, a screenshot each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelyard.automl import spotcheck, tune
from modelyard.execution import LocalExecutor
from modelyard.pipelines import Pipeline, PipelineRun, PipelineStore, steps
from tests.browser import OFFLINE, chromium
from tests.pipelines import _functions as fns
from tests.ui.conftest import LiveUi, Seeded
from tests.ui.test_browser import login, open_page, wait_for
from tests.ui.walk import walk

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def searched(seeded: Seeded) -> Iterator[tuple[str, str, PipelineRun]]:
    """A spot-check and a tuning study of churn:2, a two-step pipeline run, churn:2's
    profile and a monitor on churn-live: (spot-check run, study run, pipeline run)."""
    ws = seeded.workspace
    with LocalExecutor(1) as executor:
        board = spotcheck(ws, "churn:2", algorithms=["linear"], folds=2, executor=executor)
        study = tune(ws, "churn:2", algorithm="linear", trials=2, folds=2, executor=executor)
        p = Pipeline("ui-sum")
        first = p.add(steps.Function(fns.add, 1, 2, name="first"))
        p.add(steps.Function(fns.add, first, 3, name="second"))
        run = PipelineStore(ws).run(p, executor=executor)
    assert board.run_id and study.run_id and run.status.value == "succeeded"
    ws.datasets.profile("churn:2")
    if "churn-watch" not in [m.name for m in ws.monitors.list()]:
        ws.monitors.create("churn-live", name="churn-watch")
    yield board.run_id, study.run_id, run


@pytest.fixture(scope="module")
def browser(live_ui: LiveUi, seeded: Seeded) -> Iterator[Any]:
    with chromium(OFFLINE) as driver:
        login(driver, live_ui.url, seeded.admin_token)
        yield driver


def test_tuning_lists_searches_and_opens_their_reports(
    browser: Any, live_ui: LiveUi, searched: tuple[str, str, PipelineRun], screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By

    board_run, study_run, _ = searched
    assert open_page(browser, f"{live_ui.url}/ui/tuning", screenshots, "tuning") == []
    spot_rows = browser.find_elements(By.CSS_SELECTOR, "#spotchecks tbody tr")
    study_rows = browser.find_elements(By.CSS_SELECTOR, "#studies tbody tr")
    assert len(spot_rows) == 1 and "linear" in spot_rows[0].text  # the parent, not its child
    assert len(study_rows) == 1 and "linear" in study_rows[0].text
    assert browser.find_element(By.ID, "cli").text.startswith("modelyard runs list --experiment")
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a.report")]
    assert links == [
        f"{live_ui.url}/ui/runs/{board_run}/reports/leaderboard.html",
        f"{live_ui.url}/ui/runs/{study_run}/reports/study.html",
    ]
    for name, link in zip(("leaderboard", "study"), links, strict=True):
        # the stored report, sandboxed: its Plotly charts draw, nothing is logged
        assert open_page(browser, link, screenshots, f"tuning-{name}") == []
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".plot-container"))
    # the run page links its report among its artifacts
    open_page(browser, f"{live_ui.url}/ui/runs/{board_run}", screenshots, "tuning-run")
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#artifacts a.report")] == [
        "leaderboard.html"
    ]
    with httpx.Client(base_url=live_ui.url, timeout=30) as client:
        login_page = client.get("/ui/login")
        assert login_page.status_code == 200
        # the report route serves modelyard's reports only, sandboxed, after a login
        answer = client.get(f"/ui/runs/{board_run}/reports/leaderboard.html")
        assert answer.status_code == 401
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    with httpx.Client(base_url=live_ui.url, timeout=30, cookies=cookies) as client:
        answer = client.get(f"/ui/runs/{board_run}/reports/leaderboard.html")
        assert answer.status_code == 200
        assert answer.headers["content-security-policy"] == "sandbox allow-scripts"
        answer = client.get(f"/ui/runs/{board_run}/reports/model/model.onnx")
        assert answer.status_code == 404 and "is not a report" in answer.text


def test_a_pipeline_run_shows_its_dag(
    browser: Any, live_ui: LiveUi, searched: tuple[str, str, PipelineRun], screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By

    run = searched[2]
    assert open_page(browser, f"{live_ui.url}/ui/pipelines", screenshots, "pipelines") == []
    row = browser.find_element(By.CSS_SELECTOR, "#pipeline-runs tbody tr")
    assert "ui-sum" in row.text and "succeeded" in row.text
    row.find_element(By.TAG_NAME, "a").click()
    wait_for(browser, lambda d: f"/pipelines/runs/{run.id}" in d.current_url)
    browser.save_screenshot(str(screenshots / "pipeline-run.png"))
    steps_shown = [
        r.find_elements(By.TAG_NAME, "td")[0].text
        for r in browser.find_elements(By.CSS_SELECTOR, "#steps tbody tr")
    ]
    assert steps_shown == ["first", "second"]
    assert browser.find_element(By.ID, "cli").text == f"modelyard pipeline show {run.id[:12]}"
    browser.switch_to.frame(browser.find_element(By.ID, "dag"))
    try:
        edges = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "svg path.edge"))
        assert [(e.get_attribute("data-from"), e.get_attribute("data-to")) for e in edges] == [
            ("first", "second")
        ]
    finally:
        browser.switch_to.default_content()
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_profile_report_monitor_pages_open(
    browser: Any, live_ui: LiveUi, searched: tuple[str, str, PipelineRun], screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, f"{live_ui.url}/ui/datasets/churn/2", screenshots, "dataset-2")
    browser.find_element(By.ID, "profile").click()
    wait_for(browser, lambda d: d.current_url.endswith("/datasets/churn/2/profile"))
    wait_for(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    browser.save_screenshot(str(screenshots / "dataset-profile.png"))
    assert "churn:2" in browser.title or "churn:2" in browser.page_source[:5000]
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    # a model version's evaluation report, reached from the version's page
    open_page(browser, f"{live_ui.url}/ui/models/churn/2", screenshots, "version-for-report")
    browser.find_element(By.ID, "report").click()
    wait_for(browser, lambda d: d.current_url.endswith("/models/churn/2/report"))
    wait_for(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    browser.save_screenshot(str(screenshots / "model-report.png"))
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    errors = open_page(browser, f"{live_ui.url}/ui/monitors/churn-watch", screenshots, "monitor")
    assert errors == []
    assert browser.find_element(By.ID, "cli").text == "modelyard monitor show churn-watch"
    open_page(browser, f"{live_ui.url}/ui/monitors", screenshots, "monitors-one")
    rows = browser.find_elements(By.CSS_SELECTOR, "#monitors tbody tr")
    assert "churn-watch" in rows[0].text and "churn-live" in rows[0].text
    # the overview gives each endpoint's health: its monitors' open violations
    open_page(browser, f"{live_ui.url}/ui/", screenshots, "overview-health")
    cell = browser.find_element(By.CSS_SELECTOR, "tr[data-endpoint='churn-live'] td.health")
    assert cell.text == "churn-watch: ok"
    link = cell.find_element(By.TAG_NAME, "a").get_attribute("href")
    assert link == f"{live_ui.url}/ui/monitors/churn-watch"


def test_every_page_reached_from_the_overview_opens_cleanly(
    browser: Any, live_ui: LiveUi, searched: tuple[str, str, PipelineRun], screenshots: Path
) -> None:
    """Clicking through from the overview reaches every kind of page the catalog has
    (but those only a form, a script or a logged-out visitor opens), none with a
    console error."""
    done = walk(browser, live_ui.url, screenshots, prefix="walk-")
    assert done.missed == set(), done.opened
    assert {kind: errors for kind, errors in done.errors.items() if errors} == {}
    assert "pipeline-dag" in done.opened and "run-report" in done.opened


def test_jobs_progress_moves_without_a_reload(
    browser: Any, live_ui: LiveUi, seeded: Seeded, screenshots: Path
) -> None:
    """A running job on the overview, and its progress on the jobs page moving as
    partitions commit, the page never reloaded (its table is polled)."""
    from selenium.webdriver.common.by import By

    from modelyard.jobs import JobStatus

    jobs = seeded.workspace.jobs
    job = jobs.create("batch-transform", {"model": "churn:2"}, [("p0", {}), ("p1", {})])
    jobs.start(job.id)
    try:
        open_page(browser, f"{live_ui.url}/ui/", screenshots, "overview-running-job")
        assert job.id[:8] in browser.find_element(By.ID, "running").text
        assert open_page(browser, f"{live_ui.url}/ui/jobs", screenshots, "jobs-running") == []
        browser.execute_script("window.notReloaded = true;")

        def row(d: Any) -> str:
            text: str = d.find_element(By.CSS_SELECTOR, f"#jobs tr[data-job='{job.id}']").text
            return text

        assert "running" in row(browser) and "0/2" in row(browser)
        for key in ("p0", "p1"):
            jobs.commit_partition(
                job.id, key, rows_in=10, rows_out=10, rows_rejected=0, output=None, checksum=None
            )
        wait_for(browser, lambda d: "2/2" in row(d), timeout=30)
        jobs.finish(job.id, JobStatus.SUCCEEDED)
        wait_for(browser, lambda d: "succeeded" in row(d), timeout=30)
        assert browser.execute_script("return window.notReloaded === true;")
        browser.save_screenshot(str(screenshots / "jobs-finished.png"))
    finally:
        if not jobs.get(job.id).status.finished:
            jobs.finish(job.id, JobStatus.CANCELLED)


def test_runs_sort_and_page_on_the_server_and_compare_scatters(
    browser: Any, live_ui: LiveUi, seeded: Seeded, screenshots: Path
) -> None:
    """60 runs: the table shows 50, sorts by a metric column on the server (the best
    run first across every page), the next page holds the other 10; two compared
    runs are two points of the param-against-metric scatter."""
    from selenium.webdriver.common.by import By

    ws = seeded.workspace
    if "many" not in ws.runs.experiments():
        for index in range(60):
            with ws.start_run("many", name=f"many-{index:02d}") as run:
                run.log_params({"depth": index % 7})
                run.log_metrics({"score": (index * 37 % 60) / 60})
    open_page(browser, f"{live_ui.url}/ui/runs?experiment=many", screenshots, "runs-many")
    assert browser.find_element(By.ID, "total").text == "60"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr")) == 50
    header = browser.find_element(By.CSS_SELECTOR, "#runs th.metric a.sort")
    assert header.text.startswith("score")
    header.click()  # descending first
    wait_for(browser, lambda d: "order=metrics.score" in d.current_url)
    names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#runs tbody td a")]
    best = max(range(60), key=lambda i: (i * 37 % 60) / 60)
    assert names[0] == f"many-{best:02d}" and len(names) == 50
    browser.find_element(By.ID, "next").click()
    wait_for(browser, lambda d: "offset=50" in d.current_url)
    rest = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#runs tbody td a")]
    assert len(rest) == 10 and not set(rest) & set(names)
    worst = min(range(60), key=lambda i: (i * 37 % 60) / 60)
    assert rest[-1] == f"many-{worst:02d}"
    browser.save_screenshot(str(screenshots / "runs-sorted-page-2.png"))
    boxes = browser.find_elements(By.CSS_SELECTOR, "input.pick")
    boxes[0].click()
    boxes[1].click()
    browser.find_element(By.ID, "compare").click()
    wait_for(browser, lambda d: "/runs/compare" in d.current_url)
    points = wait_for(
        browser,
        lambda d: d.execute_script(
            "var c = document.getElementById('scatter');"
            "return c && c.data && c.data.length ? c.data.map(t => t.name) : null;"
        ),
    )
    assert sorted(points) == sorted(rest[:2])
    assert len(browser.find_elements(By.CSS_SELECTOR, "#scatter .scatterlayer .trace")) == 2
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_a_version_shows_lineage_flavors_and_parity(
    browser: Any, live_ui: LiveUi, seeded: Seeded, screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By

    version = seeded.workspace.models.get("churn:2")
    open_page(browser, f"{live_ui.url}/ui/models/churn/2", screenshots, "version-lineage")
    lineage = browser.find_element(By.ID, "lineage")
    links = [a.get_attribute("href") for a in lineage.find_elements(By.TAG_NAME, "a")]
    dataset = str(version.lineage["dataset"]).replace(":", "/")
    assert links[:2] == [
        f"{live_ui.url}/ui/datasets/{dataset}",
        f"{live_ui.url}/ui/runs/{version.run_id}",
    ]
    assert "model churn:2" in lineage.text
    assert browser.find_element(By.ID, "flavors").text == ", ".join(version.flavors)
    assert browser.find_element(By.ID, "parity").text.startswith(("agrees:", "no ONNX flavor:"))
