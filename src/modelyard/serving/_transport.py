"""Slow and idle clients: deadlines for a request's head and body, a cap on connections.

uvicorn times out a keep-alive connection only once it has answered on it; a
connection that sends nothing, or sends its request head a byte at a time, stays
open for ever, and so does a request whose body never ends. Enough of them (21,000
half-sent requests in a probe) exhaust the process's file descriptors, and then
nothing, ``/ping`` included, is answered.

Two pieces, each on a public interface:

- :func:`guarded_protocol` wraps the HTTP protocol class uvicorn is configured with
  (``uvicorn.Config(http=...)`` takes any :class:`asyncio.Protocol` class) by
  composition: it sees the bytes and the writes of a connection through asyncio's
  protocol and transport interfaces and nothing of uvicorn's internals. A request
  head must arrive whole within ``head_timeout`` of the connection opening, or of
  the first byte after a response; otherwise the connection is closed (with a 408 if
  part of a head came). At ``max_connections`` the connection that has waited
  longest for its head is closed to make room, so a flood of idle connections
  cannot shut out a client that sends its request at once.
- :class:`BodyDeadline` (pure ASGI middleware): the body must arrive within
  ``body_timeout`` of the head; otherwise the answer is 408 with
  ``Connection: close``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Generator, MutableMapping
from typing import Any, cast

from modelyard.errors import InvalidInputError

__all__ = ["BodyDeadline", "RequestTimeoutError", "default_http_protocol", "guarded_protocol"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_WAITING, _IN_REQUEST, _RESPONDED = 0, 1, 2
_HEAD_TIMEOUT_TEXT = b"the request head did not arrive in time"
_HEAD_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s"
    % (len(_HEAD_TIMEOUT_TEXT), _HEAD_TIMEOUT_TEXT)
)


class RequestTimeoutError(InvalidInputError):
    """A request (its head or its body) that did not arrive in time (HTTP 408)."""

    http_status = 408


def default_http_protocol() -> type[asyncio.Protocol]:
    """The HTTP protocol class ``uvicorn.Config(http="auto")`` would choose.

    httptools when it is installed (``modelyard[serve]`` installs it), else h11.
    """
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools comes with modelyard[serve]
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol
    return HttpToolsProtocol


def guarded_protocol(
    inner: type[asyncio.Protocol], *, head_timeout: float, max_connections: int
) -> type[asyncio.Protocol]:
    """``inner`` with a deadline for each request head and a cap on open connections.

    Args:
        inner: the HTTP protocol class to wrap; it is built with the arguments the
            server passes, untouched.
        head_timeout: seconds a request head may take to arrive whole.
        max_connections: open connections at most (see the module docstring).
    """
    waiting: dict[Any, None] = {}  # connections waiting for a head, oldest first
    opened = [0]

    class GuardedProtocol(asyncio.Protocol):
        __slots__ = ("_got", "_inner", "_state", "_tail", "_timer", "_transport")

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._inner = inner(*args, **kwargs)
            self._transport: asyncio.Transport | None = None
            self._timer: asyncio.TimerHandle | None = None
            self._state = _WAITING
            self._tail = b""
            self._got = False

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            # uvloop's transports are not asyncio.Transport subclasses: duck-typed
            self._transport = cast(asyncio.Transport, transport)
            watched = _WatchedTransport(self._transport, self)
            self._inner.connection_made(cast(asyncio.Transport, watched))
            opened[0] += 1
            if opened[0] > max_connections:
                victim = next(iter(waiting), self)
                victim._close(timed_out=False)
            if not transport.is_closing():
                self._wait()

        def _wait(self) -> None:
            self._state = _WAITING
            self._tail = b""
            self._got = False
            waiting[self] = None
            self._timer = asyncio.get_running_loop().call_later(head_timeout, self._expire)

        def _stop_waiting(self, state: int) -> None:
            self._state = state
            waiting.pop(self, None)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _expire(self) -> None:
            self._timer = None
            self._close(timed_out=True)

        def _close(self, *, timed_out: bool) -> None:
            self._stop_waiting(self._state)
            transport = self._transport
            if transport is not None and not transport.is_closing():
                if timed_out and self._got:
                    transport.write(_HEAD_TIMEOUT_RESPONSE)
                transport.close()

        def responded(self, data: bytes | bytearray | memoryview) -> None:
            # "100 Continue" is an interim answer: the body is still to come
            if self._state != _RESPONDED and data[:10] != b"HTTP/1.1 1":
                self._stop_waiting(_RESPONDED)

        def data_received(self, data: bytes) -> None:
            state = self._state
            if state == _RESPONDED:
                self._wait()
                state = _WAITING
            if state == _WAITING and data:
                self._got = True
                seen = self._tail + data[:3]
                if b"\n\r\n" in seen or b"\n\n" in seen or b"\n\r\n" in data or b"\n\n" in data:
                    self._stop_waiting(_IN_REQUEST)
                else:
                    self._tail = (self._tail + data)[-3:] if len(data) < 3 else data[-3:]
            self._inner.data_received(data)

        def eof_received(self) -> bool | None:
            return self._inner.eof_received()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_waiting(self._state)
            opened[0] -= 1
            self._inner.connection_lost(exc)

        def pause_writing(self) -> None:
            self._inner.pause_writing()

        def resume_writing(self) -> None:
            self._inner.resume_writing()

    GuardedProtocol.__name__ = f"Guarded{inner.__name__}"
    GuardedProtocol.__qualname__ = GuardedProtocol.__name__
    return GuardedProtocol


class _WatchedTransport:
    """The connection's transport, telling the guard when a response is written.

    It also sends a response's head and body in one write: the HTTP server writes
    the head as soon as the app starts its answer and the body right after, and each
    write is a system call (on loopback, the receiver's share of the TCP work
    included) that cost more than the rest of a small answer together. A head is
    held until the next write, or until the event loop's next turn when none
    follows (a streamed answer); closing the transport sends it first.
    """

    __slots__ = ("_guard", "_head", "_transport")

    def __init__(self, transport: asyncio.Transport, guard: Any) -> None:
        self._transport = transport
        self._guard = guard
        self._head: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._guard.responded(data)
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head + data)
        elif data[:9] == b"HTTP/1.1 " and data[9:10] != b"1":  # not "100 Continue"
            self._head = bytes(data)
            asyncio.get_running_loop().call_soon(self._send_head)
        else:
            self._transport.write(data)

    def _send_head(self) -> None:
        head = self._head
        if head is not None:
            self._head = None
            if not self._transport.is_closing():
                self._transport.write(head)

    def writelines(self, lines: Any) -> None:
        lines = list(lines)
        self._guard.responded(lines[0] if lines else b"")
        if self._head is not None:
            lines.insert(0, self._head)
            self._head = None
        self._transport.writelines(lines)

    def get_write_buffer_size(self) -> int:
        held = len(self._head) if self._head is not None else 0
        return self._transport.get_write_buffer_size() + held

    def write_eof(self) -> None:
        self._send_head()
        self._transport.write_eof()

    def close(self) -> None:
        self._send_head()
        self._transport.close()

    def abort(self) -> None:
        self._head = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class BodyDeadline:
    """Answer 408 (``Connection: close``) when a request body takes over ``seconds``.

    The clock starts when the app is called (the head has arrived). On time out the
    middleware answers itself, tells the app the client went away (``http.disconnect``)
    and drops what the app sends after that.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.seconds
        complete = False
        started = False
        answered = False

        async def timed_receive() -> Message:
            nonlocal complete, answered, started
            if complete:
                return await receive()
            if answered:
                return {"type": "http.disconnect"}
            # A small body has usually arrived with the head: then receive answers
            # without waiting, and no timer is armed (one per request was a good part
            # of the middleware's cost). Only a receive that has to wait runs on, from
            # where it stopped, under the deadline.
            waiting = receive().__await__()
            message: Message
            try:
                pending = waiting.send(None)
            except StopIteration as done:
                message = done.value
            else:
                try:
                    async with asyncio.timeout_at(deadline):
                        message = await _Resumed(waiting, pending)
                except TimeoutError:
                    if started:  # the app already answered: only the connection can go
                        raise
                    answered = started = True
                    await _answer_timeout(send, self.seconds)
                    return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except Exception:
            if not answered:
                raise


class _Resumed:
    """The rest of an awaitable that was started by hand and had to wait.

    ``waiting`` (its ``__await__`` iterator) yielded ``pending`` to the event loop
    the first time it ran; awaiting this hands ``pending`` to the loop as the
    awaitable would have, then runs ``waiting`` on to its result, passing in what
    the loop sends or throws (a cancellation by the deadline among them).
    """

    __slots__ = ("_pending", "_waiting")

    def __init__(self, waiting: Any, pending: Any) -> None:
        self._waiting = waiting
        self._pending = pending

    def __await__(self) -> Generator[Any, Any, Any]:
        waiting, pending = self._waiting, self._pending
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                waiting.close()
                raise
            except BaseException as exc:
                try:
                    pending = waiting.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    pending = waiting.send(sent)
                except StopIteration as done:
                    return done.value


async def _answer_timeout(send: Send, seconds: float) -> None:
    error = RequestTimeoutError(
        f"the request body did not arrive within {seconds:g} s",
        details={"body_timeout_seconds": seconds},
    )
    body = json.dumps(error.to_dict()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 408, "headers": headers})
    await send({"type": "http.response.body", "body": body})
