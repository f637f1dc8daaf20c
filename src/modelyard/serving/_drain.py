"""A graceful stop that answers, or cleanly refuses, every request a client sends.

uvicorn's own stop closes every idle keep-alive connection at once. A client that
had just sent its next request on one (or whose request was still in the socket,
unread) got no answer and the request was never processed: 7 such requests with one
worker under load, 21 with two. So on SIGTERM or Ctrl-C the gateway drains first:

1. it stops accepting connections (a client connecting now is refused: its
   request was never sent); several workers wait for each other here, see
   :func:`drain`;
2. every response from then on carries ``Connection: close``, so each client
   learns with its next answer that the connection ends, and reconnecting is refused;
3. once no request has started or ended for ``quiet`` seconds (or after ``limit``
   seconds), uvicorn's own stop runs: connections left are idle ones, in-flight
   requests get ``timeout_graceful_shutdown`` to finish, then the ASGI lifespan
   shuts the gateway down (shadow copies, capture flushed).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["Drain", "Peers", "drain"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_CLOSE = (b"connection", b"close")


class Drain:
    """Pure ASGI middleware: counts requests in flight and, once :attr:`draining`,
    adds ``Connection: close`` to every response (uvicorn then closes the connection
    after it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.draining = False
        self.inflight = 0
        self.last_activity = time.monotonic()
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                self.loop = asyncio.get_running_loop()
            await self.app(scope, receive, send)
            return

        async def closing_send(message: Message) -> None:
            if self.draining and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
            await send(message)

        self.inflight += 1
        self.last_activity = time.monotonic()
        try:
            await self.app(scope, receive, closing_send)
        finally:
            self.inflight -= 1
            self.last_activity = time.monotonic()


async def drain(
    server: Any, guard: Drain, *, quiet: float, limit: float, peers: Peers | None = None
) -> None:
    """Drain ``guard``'s traffic, then ask uvicorn's ``server`` to stop.

    Args:
        server: the ``uvicorn.Server`` serving the app (its listeners are closed,
            then ``should_exit`` is set).
        guard: the app's :class:`Drain`.
        quiet: seconds without a request starting or ending that end the drain.
        limit: seconds the drain may take at most.
        peers: the other workers sharing the listening socket, if any.
    """
    for listener in getattr(server, "servers", ()):  # asyncio.Server objects: stop accepting
        listener.close()
    deadline = time.monotonic() + limit
    if peers is not None:
        # Workers share one listening socket. A client told Connection: close by one
        # worker reconnects at once and lands in the queue of a worker still
        # listening, and if that worker then stops before accepting it, the request
        # is reset unanswered. So no worker says close before every worker has
        # stopped accepting: a reconnect is then refused by the kernel.
        peers.arrive()
        while not peers.all_arrived() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    guard.draining = True
    while time.monotonic() < deadline:
        if guard.inflight == 0 and time.monotonic() - guard.last_activity >= quiet:
            break
        await asyncio.sleep(0.05)
    server.should_exit = True


class Peers:
    """How many of ``workers`` processes have stopped accepting (a shared counter).

    Made by the parent process with its multiprocessing context and given to each
    worker.
    """

    def __init__(self, context: Any, workers: int) -> None:
        self._count = context.Value("i", 0)
        self._workers = workers

    def arrive(self) -> None:
        """This worker has stopped accepting."""
        with self._count.get_lock():
            self._count.value += 1

    def all_arrived(self) -> bool:
        """Whether every worker has stopped accepting."""
        return bool(self._count.value >= self._workers)
