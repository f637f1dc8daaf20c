"""Every page in headless Chromium (offline: nothing but the loopback server), no
console errors, a screenshot each; filter, compare, approve, alias and rollback
through the browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelyard.registry import ApprovalStatus
from tests.browser import OFFLINE, chromium
from tests.ui.conftest import LiveUi, Seeded

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser(live_ui: LiveUi, seeded: Seeded) -> Iterator[Any]:
    """One Chromium for the module, logged in with the admin token."""
    with chromium(OFFLINE) as driver:
        login(driver, live_ui.url, seeded.admin_token)
        yield driver


def login(driver: Any, url: str, token: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/ui/login")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "login").click()
    wait_for(driver, lambda d: "/ui/login" not in d.current_url)


def wait_for(driver: Any, condition: Any, timeout: float = 20) -> Any:
    """Wait until ``condition`` holds; an element replaced while it is read (a page
    re-rendered after a change) is looked up again on the next poll."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, ignored_exceptions=ignored).until(condition)


def open_page(driver: Any, url: str, shots: Path, name: str) -> list[dict[str, Any]]:
    """Load ``url``, wait for it, keep a screenshot; the console's errors."""
    driver.get_log("browser")  # drain what earlier pages logged
    driver.get(url)
    wait_for(driver, lambda d: d.execute_script("return document.readyState") == "complete")
    driver.save_screenshot(str(shots / f"{name}.png"))
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def page_urls(seeded: Seeded) -> dict[str, str]:
    ws = seeded.workspace
    trained = ws.runs.search("churn", limit=1).runs[0]
    return {
        "overview": "/ui/",
        "runs": "/ui/runs?experiment=sweep",
        "run": f"/ui/runs/{trained.id}",
        "compare": f"/ui/runs/compare?run={seeded.run_ids[0]}&run={seeded.run_ids[1]}",
        "models": "/ui/models",
        "model": "/ui/models/churn",
        "model-version": "/ui/models/churn/2",
        "datasets": "/ui/datasets",
        "dataset": "/ui/datasets/churn",
        "dataset-version": "/ui/datasets/churn/2",
        "dataset-diff": "/ui/datasets/churn/diff?old=1&new=2",
        "endpoints": "/ui/endpoints",
        "endpoint": "/ui/endpoints/churn-live",
        "monitors": "/ui/monitors",
        "tuning": "/ui/tuning",
        "pipelines": "/ui/pipelines",
        "jobs": "/ui/jobs",
        "job": f"/ui/jobs/{seeded.job_id}",
        "login": "/ui/login",
    }


def test_every_page_opens_without_console_errors(
    browser: Any, live_ui: LiveUi, seeded: Seeded, screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By

    commands = {}
    for name, path in page_urls(seeded).items():
        errors = open_page(browser, live_ui.url + path, screenshots, name)
        assert errors == [], f"{name}: {errors}"
        heading = browser.find_element(By.TAG_NAME, "h1").text
        assert heading and "Not found" not in heading, name
        commands[name] = browser.find_element(By.ID, "cli").text
        assert commands[name].startswith("modelyard "), name
    assert len(list(screenshots.glob("*.png"))) >= 19
    # each page's command is one the CLI has: its words up to the arguments, with --help
    from typer.testing import CliRunner

    from modelyard.cli._app import app

    for name, command in commands.items():
        words = command.split()[1:]
        group = words[:2] if len(words) > 1 and not words[1].startswith("-") else words[:1]
        answer = CliRunner().invoke(app, [*group, "--help"])
        assert answer.exit_code == 0 and "Usage:" in answer.output, (name, command)
        assert "No such command" not in answer.output, (name, command)


def test_filter_runs_in_the_browser(browser: Any, live_ui: LiveUi, screenshots: Path) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, f"{live_ui.url}/ui/runs?experiment=sweep", screenshots, "runs-before")
    assert browser.find_element(By.ID, "total").text == "3"
    box = browser.find_element(By.ID, "filter")
    box.send_keys("metrics.roc_auc > 0.66 and params.algorithm = 'xgboost'")
    browser.find_element(By.ID, "apply").click()
    wait_for(browser, lambda d: "filter=" in d.current_url)
    browser.save_screenshot(str(screenshots / "runs-filtered.png"))
    assert browser.find_element(By.ID, "total").text == "1"
    names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#runs tbody td a")]
    assert names == ["sweep-2"]
    box = browser.find_element(By.ID, "filter")
    box.clear()
    box.send_keys("metrics.roc_auc >")
    browser.find_element(By.ID, "apply").click()
    error = wait_for(browser, lambda d: d.find_element(By.ID, "filter-error"))
    assert "bad filter at character" in error.text and "incomplete comparison" in error.text


def test_compare_two_runs_draws_both(
    browser: Any, live_ui: LiveUi, seeded: Seeded, screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, f"{live_ui.url}/ui/runs?experiment=sweep", screenshots, "runs-pick")
    boxes = browser.find_elements(By.CSS_SELECTOR, "input.pick")
    boxes[0].click()
    boxes[1].click()
    button = browser.find_element(By.ID, "compare")
    assert button.is_enabled()
    browser.get_log("browser")
    button.click()
    wait_for(browser, lambda d: "/runs/compare" in d.current_url)
    # Plotly draws one trace group per run into the curves chart
    traces = wait_for(
        browser,
        lambda d: d.execute_script(
            "var c = document.getElementById('curves');"
            "return c && c.data && c.data.length === 2 ? c.data.map(t => t.name) : null;"
        ),
    )
    assert sorted(traces) == ["sweep-1", "sweep-2"]  # the table lists newest first
    drawn = browser.find_elements(By.CSS_SELECTOR, "#curves .scatterlayer .trace")
    assert len(drawn) == 2
    assert browser.execute_script("return document.getElementById('parallel').data.length") == 1
    browser.save_screenshot(str(screenshots / "compare-two.png"))
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_approve_and_move_alias_in_the_browser(
    browser: Any, live_ui: LiveUi, seeded: Seeded, screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By

    registry = seeded.workspace.models
    open_page(browser, f"{live_ui.url}/ui/models/churn/1", screenshots, "version-before")
    browser.find_element(By.ID, "approve").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "status").text.startswith("approved"))
    assert registry.get("churn:1").status is ApprovalStatus.APPROVED
    assert registry.get("churn:1").status_by == "ui:ui-admin"
    alias = browser.find_element(By.ID, "alias")
    alias.clear()
    alias.send_keys("champion")
    browser.find_element(By.ID, "move-alias").click()
    wait_for(browser, lambda d: "champion" in d.find_element(By.ID, "aliases").text)
    assert registry.get("churn:champion").version == 1
    # move it: version 2 takes the alias, the registry says so
    open_page(browser, f"{live_ui.url}/ui/models/churn/2", screenshots, "version-2")
    if registry.get("churn:2").status is not ApprovalStatus.APPROVED:
        browser.find_element(By.ID, "approve").click()
        wait_for(browser, lambda d: d.find_element(By.ID, "status").text.startswith("approved"))
    alias = browser.find_element(By.ID, "alias")
    alias.clear()
    alias.send_keys("champion")
    browser.find_element(By.ID, "move-alias").click()
    wait_for(browser, lambda d: "champion" in d.find_element(By.ID, "aliases").text)
    assert registry.get("churn:champion").version == 2
    moves = [e.details for e in registry.history("churn") if e.kind == "alias"]
    assert {"alias": "champion", "from": 1, "to": 2} in moves
    browser.save_screenshot(str(screenshots / "version-alias-moved.png"))


def test_roll_an_endpoint_back_in_the_browser(
    browser: Any, live_ui: LiveUi, seeded: Seeded, screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By

    store = seeded.workspace.endpoints
    before = store.get("churn-live")
    open_page(browser, f"{live_ui.url}/ui/endpoints/churn-live", screenshots, "endpoint-before")
    browser.find_element(By.ID, "rollback-1").click()
    # the page's URL is the same before and after: wait for the re-rendered history
    wait_for(
        browser,
        lambda d: "rollback" in d.find_element(By.CSS_SELECTOR, "#history tbody tr").text,
    )
    after = store.get("churn-live")
    assert after.config_version == before.config_version + 1
    assert after.config.variants[0].model == "churn:1"
    history = store.history("churn-live")
    assert history[-1].action == "rollback" and history[-1].actor == "ui:ui-admin"
    rows = browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    assert "rollback" in rows[0].text
    browser.save_screenshot(str(screenshots / "endpoint-rolled-back.png"))


def test_an_unknown_model_is_a_404_page_with_a_way_back(
    browser: Any, live_ui: LiveUi, screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, f"{live_ui.url}/ui/models/no-such-model", screenshots, "not-found")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not found"
    assert "model no-such-model not found" in browser.find_element(By.ID, "message").text
    assert browser.find_element(By.ID, "back").get_attribute("href").endswith("/ui/models")
