"""The gateway's ASGI app: the composition root of serving.

``create_app`` builds one app from a workspace (or its settings): invocation
requests go straight to the plain-ASGI hot path, everything else to the FastAPI
management app, and the ASGI lifespan loads endpoints on startup and, on a
graceful shutdown, finishes shadow copies and writes every captured record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from importlib.util import find_spec
from typing import Any

from modelyard.serving._api import build_api
from modelyard.serving._gateway import Gateway, GatewayOptions
from modelyard.serving._http import InvocationHandler, invocation_route
from modelyard.serving._origin import OriginGuard
from modelyard.serving._transport import BodyDeadline
from modelyard.settings import Settings

__all__ = ["GatewayApp", "create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class GatewayApp:
    """Dispatch: invocations to the hot path, the rest to FastAPI; own the lifespan."""

    def __init__(self, gateway: Gateway, owns_workspace: bool) -> None:
        self.gateway = gateway
        self.api = build_api(gateway)
        if find_spec("jinja2") is not None:  # the dashboard (modelyard[ui]) at /ui
            from modelyard.ui import MOUNT_PATH, create_ui_app

            dashboard = create_ui_app(gateway.workspace, metrics=gateway.metrics.registry)
            self.api.mount(MOUNT_PATH, dashboard)
        self._invoke = InvocationHandler(gateway)
        self._owns_workspace = owns_workspace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            route = invocation_route(scope["method"], scope["path"])
            if route is not None:
                await self._invoke(scope, receive, send, *route)
                return
        elif kind == "lifespan":
            await self._lifespan(receive, send)
            return
        await self.api(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.gateway.start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.gateway.stop()
                finally:
                    if self._owns_workspace:
                        self.gateway.workspace.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(source: Any, options: GatewayOptions | None = None) -> ASGIApp:
    """The gateway for a workspace.

    Args:
        source: a :class:`~modelyard.workspace.Workspace`, or :class:`Settings` to
            open one (closed again on shutdown).
        options: how the gateway runs (defaults: every endpoint, no CORS).

    The app loads endpoints in its ASGI lifespan: run it with a server that sends
    lifespan events (uvicorn does).
    """
    from modelyard.workspace import Workspace

    options = options or GatewayOptions()
    owns = isinstance(source, Settings)
    workspace = Workspace.open(source.workspace, **_overrides(source)) if owns else source
    if not isinstance(workspace, Workspace):
        raise TypeError("create_app needs a Workspace or Settings")
    app: ASGIApp = GatewayApp(Gateway(workspace, options), owns)
    if options.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app = CORSMiddleware(
            app,
            allow_origins=list(options.cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["x-modelyard-variant", "x-modelyard-request-id"],
        )
    hosts = (*workspace.settings.allowed_hosts, *options.allowed_hosts)
    app = OriginGuard(app, hosts, options.cors_origins)
    return BodyDeadline(app, options.body_timeout)


def _overrides(settings: Settings) -> dict[str, Any]:
    return settings.model_dump(exclude={"workspace"}, exclude_unset=True)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: the structured access log."""

    _FIELDS = ("endpoint", "variant", "status", "latency_ms", "request_id")

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        for key in self._FIELDS:
            if hasattr(record, key):
                data[key] = getattr(record, key)
        return json.dumps(data)
