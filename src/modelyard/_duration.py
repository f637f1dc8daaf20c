"""Durations written by people: ``90``, ``90s``, ``5m``, ``1.5h``, ``1d``.

One parser for every place that takes one (a tuning budget, a canary's bake time,
a monitor's schedule), so ``30m`` means the same everywhere and a typo gets the
same kind of one-line error naming what was being set.
"""

from __future__ import annotations

import re

from modelyard.errors import InvalidInputError

__all__ = ["parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str, *, what: str, positive: bool = False) -> float:
    """Seconds in ``text``: a number with an optional unit (s, m, h, d; bare is seconds).

    Args:
        text: what the user wrote.
        what: the setting it is for, named first in the error (``"--budget"``,
            ``"schedule"``, ``"strategy 'canary:10%:x'"``).
        positive: refuse zero (a schedule of 0 would run without pause).

    Raises:
        InvalidInputError: not a duration, or zero when ``positive``.
    """
    found = _DURATION.match(str(text))
    seconds = float(found.group(1)) * _SECONDS[found.group(2).lower()] if found else None
    if seconds is None or (positive and seconds <= 0):
        raise InvalidInputError(f"{what} {text!r} is not a duration (use e.g. 90s, 30m, 1h or 1d)")
    return seconds
