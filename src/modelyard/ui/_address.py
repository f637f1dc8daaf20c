"""Where a running ``modelyard ui`` listens, so the CLI can link to its pages.

``modelyard ui`` writes ``<workspace>/.modelyard/ui.json`` (its process id and base
URL) once it listens and removes it when it stops. A record whose process is gone
(killed without cleaning up) is stale and ignored, so a CLI command never prints
a link to a dashboard that is not there. Nothing here imports the web stack: the
CLI's ``show`` commands read it on every call.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from modelyard.settings import Settings

__all__ = ["RECORD_FILE", "dashboard_url", "recorded_dashboard"]

RECORD_FILE = "ui.json"


def dashboard_url(settings: Settings, *parts: str | int) -> str | None:
    """The URL of a page of the workspace's running dashboard, or ``None`` when no
    ``modelyard ui`` of this workspace is running.

    ``parts`` are the page's path segments under the dashboard, each URL-quoted
    (``dashboard_url(settings, "models", "churn", 2)``: ``.../ui/models/churn/2``).
    """
    path = settings.state_dir / RECORD_FILE
    try:
        record = json.loads(path.read_text("utf-8"))
        pid, base = int(record["pid"]), str(record["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        return None
    suffix = "/".join(quote(str(part), safe="") for part in parts)
    return f"{base.rstrip('/')}/{suffix}"


@contextlib.contextmanager
def recorded_dashboard(settings: Settings, url: str) -> Iterator[None]:
    """Record this process as the workspace's dashboard at ``url`` while the block
    runs; the record is removed afterwards unless another dashboard replaced it."""
    path = settings.state_dir / RECORD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{RECORD_FILE}.{os.getpid()}.tmp")
    staging.write_text(json.dumps({"pid": os.getpid(), "url": url}), "utf-8")
    staging.replace(path)
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text("utf-8")).get("pid") == os.getpid():
                path.unlink()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0 checks without sending anything)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    except OSError:
        return False
    return True
