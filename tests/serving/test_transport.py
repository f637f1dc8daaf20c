"""Slow and idle clients against real servers: head and body deadlines, the connection cap."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from modelyard.serving import GatewayOptions, create_app
from modelyard.serving._transport import BodyDeadline, default_http_protocol, guarded_protocol
from modelyard.workspace import Workspace
from tests.serving.conftest import free_port

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body; answers its size, or streams for /stream, or waits for /slow."""
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    if scope["path"] == "/stream":  # chunks with waits between them
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for n in range(3):
            await send({"type": "http.response.body", "body": b"%d;" % n, "more_body": True})
            await asyncio.sleep(0.2)
        await send({"type": "http.response.body", "body": b"end"})
        return
    if scope["path"] == "/slow":  # a prediction longer than the head deadline
        await asyncio.sleep(1.5)
    body = b"%d" % size
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def _serve_in_thread(app: Any, **options: Any) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def guarded() -> Iterator[str]:
    """uvicorn with the guard: heads within 0.5 s, bodies within 1 s, 40 connections."""
    protocol = guarded_protocol(default_http_protocol(), head_timeout=0.5, max_connections=40)
    with _serve_in_thread(BodyDeadline(_echo, 1.0), http=protocol, lifespan="off") as url:
        yield url


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_guarded_server_answers_small_large_streamed_and_slow_requests(guarded: str) -> None:
    with httpx.Client(base_url=guarded, timeout=10) as client:
        for size in (0, 10, 70_000, 3_000_000):
            for _ in range(3):  # keep-alive: several requests on one connection
                response = client.post("/", content=b"x" * size)
                assert response.status_code == 200 and response.content == b"%d" % size
        # an answer that takes longer than the head deadline is not cut off
        assert client.post("/slow", content=b"{}").content == b"2"
        with client.stream("GET", "/stream") as streamed:
            started = time.monotonic()
            chunks = [(chunk, time.monotonic() - started) for chunk in streamed.iter_bytes()]
    assert b"".join(c for c, _ in chunks) == b"0;1;2;end"
    assert chunks[0][1] < 0.15  # the first chunk came before the app's first wait ended


def test_a_head_sent_too_slowly_is_answered_408_and_a_silent_connection_closed(
    guarded: str,
) -> None:
    silent, partial, trickle = _connect(guarded), _connect(guarded), _connect(guarded)
    with silent, partial, trickle:
        partial.sendall(b"POST / HTTP/1.1\r\nhost: x\r\n")
        trickle.sendall(b"POST / HTTP/1.1\r\n")
        started = time.monotonic()
        # a byte every 0.1 s: each one arrives in time, the head as a whole does not
        for byte in b"content-length: 2\r\n":
            try:
                trickle.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.1)
        assert _read_all(silent) == b""
        assert _read_all(partial).startswith(b"HTTP/1.1 408 ")
        assert _read_all(trickle).startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - started < 5
    # keep-alive after an answer: a second head must also come in time
    with _connect(guarded) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}")
        assert sock.recv(65536).endswith(b"\r\n\r\n2")
        sock.sendall(b"POST / HTTP/1.1\r\n")
        assert _read_all(sock).startswith(b"HTTP/1.1 408 ")


def test_a_body_after_100_continue_is_not_taken_for_a_slow_head(guarded: str) -> None:
    """The interim "100 Continue" is no answer: the body then has the body deadline."""
    with _connect(guarded) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\nexpect: 100-continue\r\n\r\n"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 100 ")
        sock.sendall(b"{}")
        time.sleep(0.8)  # past the 0.5 s head deadline, within the 1 s body deadline
        sock.sendall(b"{}")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_a_body_sent_too_slowly_is_answered_408_with_connection_close(guarded: str) -> None:
    with _connect(guarded) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n" + b"x" * 10)
        started = time.monotonic()
        answer = _read_all(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ") and b"connection: close" in head.lower()
    assert b"RequestTimeoutError" in body and b"within 1 s" in body
    assert 0.5 < time.monotonic() - started < 5


def test_at_the_cap_the_longest_waiting_connection_makes_room(guarded: str) -> None:
    idle = [_connect(guarded) for _ in range(60)]  # more than the 40 allowed
    try:
        started = time.monotonic()
        response = httpx.post(f"{guarded}/", content=b"{}", timeout=5)
        assert response.status_code == 200 and time.monotonic() - started < 2
        for sock in idle[:20]:  # the oldest were closed to make room
            sock.settimeout(5)
            assert sock.recv(10) == b""
    finally:
        for sock in idle:
            sock.close()


def test_the_gateway_app_answers_a_slow_body_408_through_every_protocol(
    churn_workspace: Path,
) -> None:
    """The body deadline wraps the gateway app: invocations and management alike."""
    with Workspace.open(churn_workspace) as ws:
        app = create_app(ws, GatewayOptions(access_log=False, body_timeout=0.5))
        with _serve_in_thread(app, lifespan="on") as url:
            for path in ("/endpoints/nope/invocations", "/api/endpoints"):
                with _connect(url) as sock:
                    sock.sendall(
                        f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: "
                        "application/json\r\ncontent-length: 100\r\n\r\n{".encode()
                    )
                    head = _read_all(sock).partition(b"\r\n\r\n")[0]
                assert head.startswith(b"HTTP/1.1 408 "), (path, head)


def _limit_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


@pytest.mark.slow
def test_modelyard_serve_answers_ping_under_a_flood_of_idle_connections(
    churn_workspace: Path,
) -> None:
    """More idle and half-sent connections than the server has file descriptors."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "modelyard", "-w", str(churn_workspace), "serve",
         "--port", str(port), "--no-access-log"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_limit_descriptors,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    flood: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None and time.monotonic() < deadline, "serve did not start"
            try:
                if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        for n in range(400):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            if n % 2:
                sock.sendall(b"POST /endpoints/x/invocations HTTP/1.1\r\nhost: x\r\n")
            flood.append(sock)
        started = time.monotonic()
        answered = None
        while answered is None and time.monotonic() - started < 2:
            try:
                answered = httpx.get(f"{url}/ping", timeout=2).status_code
            except httpx.TransportError:
                continue
        assert answered == 200, f"/ping did not answer in {time.monotonic() - started:.1f} s"
    finally:
        for sock in flood:
            sock.close()
        process.terminate()
        process.communicate(timeout=60)
