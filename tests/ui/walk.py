"""Walk the dashboard as a user clicks through it: from the overview, follow every
link (and framed page) under ``/ui/``, opening one page of each kind in the page
catalog, each checked for console errors and kept as a screenshot.

Used on the tests' seeded workspace (tests/ui/test_pages.py) and on the workspace the
demo leaves (its dashboard at the end of ``modelyard demo --ui``).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from modelyard.ui._catalog import PAGES

# pages no link leads to: reached through a form (compare, diff), polled by a page's
# script (live figures, the jobs table), or shown only to a visitor not logged in
NOT_LINKED = frozenset({"run-compare", "dataset-diff", "endpoint-live", "jobs-live", "login"})


@dataclass
class Walk:
    """What a walk opened: page kind -> its URL, and the console errors per kind."""

    opened: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def missed(self) -> set[str]:
        """Page kinds with a GET route that the walk did not reach."""
        kinds = {p.name for p in PAGES if not p.is_action}
        return kinds - set(self.opened) - NOT_LINKED


def _routes() -> list[tuple[str, re.Pattern[str]]]:
    from starlette.routing import compile_path

    return [(p.name, compile_path(p.path)[0]) for p in PAGES if not p.is_action]


def page_kind(path: str) -> str | None:
    """The catalog page a dashboard path (``/ui/...``) opens, as the router picks it."""
    if not path.startswith("/ui/") and path != "/ui":
        return None
    inner = path[len("/ui") :] or "/"
    for name, pattern in _routes():
        if pattern.match(inner):
            return name
    return None


def walk(driver: Any, base: str, shots: Path, prefix: str = "") -> Walk:
    """Open ``base``/ui/ and every page kind reachable from it, breadth first."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    done = Walk()
    queue = deque([f"{base}/ui/"])
    while queue:
        url = queue.popleft()
        parts = urlsplit(url)
        kind = page_kind(parts.path)
        if kind is None or kind in done.opened or f"{parts.scheme}://{parts.netloc}" != base:
            continue
        driver.get_log("browser")  # drain what earlier pages logged
        driver.get(url)
        WebDriverWait(driver, 30).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )
        driver.save_screenshot(str(shots / f"{prefix}{kind}.png"))
        done.opened[kind] = url
        done.errors[kind] = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        for element in driver.find_elements(By.CSS_SELECTOR, "a[href], iframe[src]"):
            target = element.get_attribute("href") or element.get_attribute("src")
            if target:
                queue.append(target.split("#")[0])
    return done
