"""Headless Chromium for the browser tests: one place that finds, starts and stops it.

Debian's ``chromium`` and ``chromium-driver`` (``make browser``). Where chromedriver
is missing a test is skipped on a laptop and fails in CI (``CI`` set), so CI cannot
pass by not running the browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests._markers import skip_or_fail_in_ci

CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = "/usr/bin/chromium"
# Every host name resolves to nothing but the loopback address: the page gets what the
# local server gives it and nothing from the internet (a CDN, fonts), as offline.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"

_ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,2000",
)


def require_chromedriver() -> None:
    """Skip (fail under CI) when Debian's chromedriver is not installed."""
    if not CHROMEDRIVER.exists():
        skip_or_fail_in_ci("chromedriver is not installed at /usr/bin/chromedriver (make browser)")


@contextmanager
def chromium(*arguments: str) -> Iterator[Any]:
    """A headless Chromium WebDriver with the browser console log kept; quit afterwards.

    ``arguments`` are extra Chromium flags (:data:`OFFLINE` blocks the network).
    """
    require_chromedriver()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for argument in (*_ARGUMENTS, *arguments):
        options.add_argument(argument)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
