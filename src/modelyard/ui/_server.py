"""Run the dashboard on its own (``modelyard ui``): one uvicorn process, loopback by
default, recorded in the workspace while it listens (see :mod:`modelyard.ui._address`)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from modelyard.errors import InvalidInputError
from modelyard.ui._address import recorded_dashboard
from modelyard.ui._app import MOUNT_PATH, standalone_app

if TYPE_CHECKING:
    from modelyard.workspace import Workspace

__all__ = ["serve_ui"]

_ANY_ADDRESS = ("", "0.0.0.0", "::")


def serve_ui(
    workspace: Workspace,
    host: str = "127.0.0.1",
    port: int = 8090,
    on_listen: Callable[[str], None] | None = None,
) -> None:
    """Serve the dashboard of ``workspace`` at ``http://host:port/ui/`` until Ctrl-C.

    The socket is bound and listening before the server starts, so port 0 picks a
    free port, the URL recorded (and given to ``on_listen``) names the port really
    used, and a client that connects as soon as it reads the URL is not refused.
    """
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # listening from now on: a client that read the URL printed below is queued
        # until uvicorn accepts, never refused (uvicorn listens on it again, harmlessly)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise InvalidInputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    bound = sock.getsockname()[1]
    shown = "127.0.0.1" if host in _ANY_ADDRESS else host
    if ":" in shown:
        shown = f"[{shown}]"
    url = f"http://{shown}:{bound}{MOUNT_PATH}"
    config = uvicorn.Config(
        standalone_app(workspace),
        log_level="warning",
        access_log=False,
        lifespan="on",  # the dashboard's startup warms what the first page needs
    )
    if on_listen is not None:
        on_listen(url)
    with recorded_dashboard(workspace.settings, url), contextlib.suppress(KeyboardInterrupt):
        # uvicorn re-raises the Ctrl-C it handled once it has shut down (as uvicorn.run)
        uvicorn.Server(config).run(sockets=[sock])
