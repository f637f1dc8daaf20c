"""Who made a change: recorded beside approvals, alias moves and endpoint changes."""

from __future__ import annotations

import getpass

__all__ = ["actor_name"]


def actor_name(actor: str | None) -> str:
    """``actor`` when given, else the operating-system user, else ``unknown``."""
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
