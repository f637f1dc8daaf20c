"""Where a monitor's alerts go: a webhook (JSON POST) or the log.

An alert is sent once when a violation episode opens and once ("resolved") when
it clears, never once per window. A webhook is tried a few times with growing
pauses and a timeout per try; a receiver that stays down is logged, and the run
goes on (an alert that cannot be delivered must not stop the checks).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from modelyard.errors import InvalidInputError

__all__ = ["parse_alert", "send_alert"]

log = logging.getLogger("modelyard.monitoring")
_TRIES = 4
_FIRST_PAUSE = 0.25
_TIMEOUT = 5.0


def parse_alert(text: str) -> str:
    """Check an alert target: ``log`` or ``webhook:http(s)://...``.

    Raises:
        InvalidInputError: anything else.
    """
    if text == "log":
        return text
    if text.startswith("webhook:"):
        url = text.removeprefix("webhook:")
        if url.startswith(("http://", "https://")):
            return text
    raise InvalidInputError(
        f"unknown alert target {text!r}: use 'log' or 'webhook:http(s)://host/path'"
    )


def send_alert(target: str, payload: dict[str, Any], *, timeout: float = _TIMEOUT) -> bool:
    """Deliver one alert; ``True`` once delivered (a log always is)."""
    if target == "log":
        log.warning("monitor %s: %s", payload.get("monitor"), payload.get("message"))
        return True
    import httpx

    url = target.removeprefix("webhook:")
    pause = _FIRST_PAUSE
    for attempt in range(1, _TRIES + 1):
        try:
            response = httpx.post(url, json=payload, timeout=timeout)
            if response.status_code < 500 and response.status_code != 429:
                if response.is_success:
                    return True
                log.error("alert to %s refused: HTTP %d", url, response.status_code)
                return False
        except httpx.HTTPError as exc:
            log.info("alert to %s, try %d: %s", url, attempt, exc)
        if attempt < _TRIES:
            time.sleep(pause)  # backoff between tries of a receiver that is down
            pause *= 2
    log.error("alert to %s not delivered after %d tries", url, _TRIES)
    return False
