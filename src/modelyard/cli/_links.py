"""The dashboard's page for what a ``show`` command printed, while ``modelyard ui``
runs for the workspace (nothing otherwise)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelyard.cli._render import console

if TYPE_CHECKING:
    from modelyard.workspace import Workspace

__all__ = ["print_page_link"]


def print_page_link(workspace: Workspace, *parts: str | int) -> None:
    """Print ``dashboard: URL`` for the page at ``parts`` under the dashboard."""
    from modelyard.ui import dashboard_url

    url = dashboard_url(workspace.settings, *parts)
    if url is not None:
        console.print(f"dashboard: {url}", markup=False, highlight=False, soft_wrap=True)
