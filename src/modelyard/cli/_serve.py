"""``modelyard serve``: the gateway for every endpoint of the workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from modelyard.cli._context import state
from modelyard.cli._render import console

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the root app."""
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    endpoint: Annotated[
        str | None,
        typer.Option(help="Serve only this endpoint (SageMaker container: /ping, /invocations)."),
    ] = None,
    cors: Annotated[
        list[str] | None, typer.Option("--cors", help="Allowed CORS origin, repeatable.")
    ] = None,
    max_body_mb: Annotated[float, typer.Option(min=0.001, help="Request body limit.")] = 6.0,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="JSON access log on stderr.")
    ] = True,
) -> None:
    """Serve the workspace's endpoints over HTTP until Ctrl-C (graceful: capture flushed)."""
    from modelyard.serving import GatewayOptions
    from modelyard.serving import serve as run

    workspace = state(ctx).workspace()
    if endpoint is not None:
        workspace.endpoints.get(endpoint)  # a clear error now rather than a 404 later
    settings = workspace.settings
    options = GatewayOptions(
        endpoint=endpoint,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        cors_origins=tuple(cors or ()),
        access_log=access_log,
    )
    console.print(
        f"gateway for [bold]{settings.workspace}[/] on http://{host}:{port} "
        f"({workers} worker{'s' if workers > 1 else ''}; docs at /docs, metrics at /metrics)"
    )
    run(settings, options, host=host, port=port, workers=workers)
