"""One write per response: uvicorn's HTTP protocol with its writes coalesced.

uvicorn writes a response's status line and headers when the app sends
``http.response.start`` and the body, separately, on ``http.response.body``: two
``send`` system calls, and on loopback or a busy machine two wake-ups of the client,
which reads the headers and then waits again for the body. For a prediction of a
few hundred bytes those writes were the largest single cost of a request under load
(py-spy at 16 connections: about half of the server's samples were in them).

:class:`CoalescingTransport` holds the first write of an event-loop step and sends
it together with the next one (the body follows the headers within the same step
when the app sends both without waiting, as the gateway does); a write still held
at the end of the step is sent then, so a streaming response is never delayed
longer than one loop iteration. Nothing else about uvicorn changes.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["CoalescingTransport", "http_protocol"]

_LARGE = 64 * 1024  # larger writes go out as they are (no copy to join them)


class CoalescingTransport:
    """A transport proxy that joins a held write with the next one.

    Args:
        transport: the connection's transport (every other call goes to it).
        loop: the event loop, to send a write still held at the end of a step.
    """

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        """Hold ``data`` until the next write or the end of this loop step."""
        held = self._held
        if held is None:
            if len(data) > _LARGE:
                self._transport.write(data)
                return
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
            return
        self._held = None
        if len(data) > _LARGE:
            self._transport.write(held)
            self._transport.write(data)
        else:
            self._transport.write(held + data)

    def flush(self) -> None:
        """Send a held write now (dropped if the connection is already closing)."""
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        """Send what is held, then close."""
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def http_protocol() -> Any:
    """uvicorn's httptools protocol with coalesced writes, or ``"auto"`` without it.

    The subclass only wraps the transport in ``connection_made`` (an asyncio
    protocol method every uvicorn version has); if uvicorn's httptools protocol
    cannot be imported, uvicorn's own choice is used.
    """
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools is a dependency
        return "auto"

    class CoalescingHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            proxy = CoalescingTransport(transport, asyncio.get_running_loop())
            super().connection_made(proxy)  # type: ignore[arg-type]  # duck-typed proxy

    return CoalescingHttpToolsProtocol
