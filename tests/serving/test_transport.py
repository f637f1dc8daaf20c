"""One write per response: the coalescing transport, alone and under a real uvicorn."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import httpx
import pytest
import uvicorn

from modelyard.serving._transport import CoalescingTransport, http_protocol
from tests.serving.conftest import free_port


class Recorder:
    """What reaches the connection's transport: each write as one item."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        assert not self.closing
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_writes_of_one_step_go_out_together_and_in_order() -> None:
    async def run() -> Recorder:
        recorder = Recorder()
        proxy = CoalescingTransport(recorder, asyncio.get_running_loop())  # type: ignore[arg-type]
        proxy.write(b"HTTP/1.1 200 OK\r\n\r\n")
        assert recorder.writes == []  # held for the body
        proxy.write(b"body")
        assert recorder.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
        proxy.write(b"chunk")  # held until the step ends
        await asyncio.sleep(0)
        assert recorder.writes[-1] == b"chunk"
        assert proxy.get_extra_info("peername") == "info:peername"  # the rest passes through
        proxy.write(b"last")
        proxy.close()  # what is held goes out before the close
        return recorder

    recorder = asyncio.run(run())
    assert recorder.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"chunk", b"last"]
    assert recorder.closing


def test_large_writes_are_not_joined_and_a_closed_connection_drops_what_is_held() -> None:
    async def run() -> Recorder:
        recorder = Recorder()
        proxy = CoalescingTransport(recorder, asyncio.get_running_loop())  # type: ignore[arg-type]
        big = b"x" * 100_000
        proxy.write(b"head")
        proxy.write(big)
        assert recorder.writes == [b"head", big]
        proxy.write(big)
        assert recorder.writes[-1] is big
        proxy.write(b"late")
        recorder.closing = True  # the client went away
        await asyncio.sleep(0)
        return recorder

    recorder = asyncio.run(run())
    assert len(recorder.writes) == 3


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await receive()
    if scope["path"] == "/stream":  # chunks with waits between them: none may be held back
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for n in range(3):
            await send({"type": "http.response.body", "body": b"%d;" % n, "more_body": True})
            await asyncio.sleep(0.2)
        await send({"type": "http.response.body", "body": b"end"})
        return
    body = b"x" * int(scope["query_string"] or b"10")
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def server() -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(_app, host="127.0.0.1", port=port, http=http_protocol(), lifespan="off")
    assert config.http is not None and not isinstance(config.http, str)
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not served.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(timeout=30)


def test_uvicorn_with_coalesced_writes_answers_small_large_and_streamed(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        for size in (0, 10, 70_000, 3_000_000):
            for _ in range(3):  # keep-alive: several responses on one connection
                response = client.post(f"/?{size}", content=b"{}")
                assert response.status_code == 200 and response.content == b"x" * size
        with client.stream("GET", "/stream") as streamed:
            started = time.monotonic()
            chunks = [(chunk, time.monotonic() - started) for chunk in streamed.iter_bytes()]
    assert b"".join(c for c, _ in chunks) == b"0;1;2;end"
    assert chunks[0][1] < 0.15  # the first chunk came before the app's first wait ended
