"""Run the dashboard on its own (``modelyard ui``): one uvicorn process, loopback by default."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelyard.ui._app import standalone_app

if TYPE_CHECKING:
    from modelyard.workspace import Workspace

__all__ = ["serve_ui"]


def serve_ui(workspace: Workspace, host: str = "127.0.0.1", port: int = 8090) -> None:
    """Serve the dashboard of ``workspace`` at ``http://host:port/ui/`` until Ctrl-C."""
    import uvicorn

    uvicorn.run(
        standalone_app(workspace),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
