"""Running the gateway: uvicorn in this process, or several worker processes.

Workers get the settings as an argument (pickled by ``multiprocessing``), never
through environment variables: each builds its own app with :func:`create_app`
on a listening socket bound once here and shared.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from dataclasses import replace
from typing import Any

from modelyard.serving._accesslog import write_access_log_to
from modelyard.serving._app import JsonLogFormatter, create_app
from modelyard.serving._drain import Drain, Peers, drain
from modelyard.serving._gateway import GatewayOptions
from modelyard.serving._transport import default_http_protocol, guarded_protocol
from modelyard.settings import Settings

__all__ = ["configure_logging", "serve"]

_KEEP_ALIVE_SECONDS = 75  # nginx's default
_SPARE_DESCRIPTORS = 64  # for the database, model files, capture files and logs


def configure_logging(access_log: bool) -> None:
    """Structured JSON logs on stderr, buffered (the gateway flushes twice a second).

    Access lines are written straight to stderr in batches (see
    :mod:`modelyard.serving._accesslog`); other messages go through the
    ``modelyard.serving`` logger.
    """
    from logging.handlers import MemoryHandler

    write_access_log_to(sys.stderr if access_log else None)
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(JsonLogFormatter())
    handler = MemoryHandler(capacity=2000, flushLevel=logging.WARNING, target=stream)
    logger = logging.getLogger("modelyard.serving")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO if access_log else logging.WARNING)
    logger.propagate = False


def serve(
    settings: Settings,
    options: GatewayOptions,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
) -> None:
    """Serve the workspace's endpoints until interrupted (SIGINT/SIGTERM: graceful)."""
    names: tuple[str, ...] = (host,)
    if host in ("0.0.0.0", "::", ""):  # every interface: the machine's own names too
        names += (socket.gethostname(), socket.getfqdn())
    options = replace(options, allowed_hosts=(*options.allowed_hosts, *names))
    if workers <= 1:
        _run(settings, options, host, port, None, None)
        return
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    context = multiprocessing.get_context("spawn")
    # Settings classes are made per workspace (not picklable): send the values instead
    values = settings.model_dump(mode="json", exclude_unset=True)
    peers = Peers(context, workers)
    processes = [
        context.Process(
            target=_worker, args=(values, options, host, port, sock, peers), daemon=False
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    # Each worker holds its own copy now. Closing this one lets the listening socket
    # close when the last worker stops accepting, rather than leave connections
    # waiting in its queue for no one until this process exits (then reset).
    sock.close()

    def forward(signum: int, frame: Any) -> None:
        # SIGTERM reaches only this process: pass it on so each worker shuts down
        # gracefully (Ctrl-C's SIGINT already reaches the whole process group).
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    try:
        for process in processes:
            process.join()
    except KeyboardInterrupt:
        for process in processes:
            process.join()


def _worker(
    values: dict[str, Any],
    options: GatewayOptions,
    host: str,
    port: int,
    sock: Any,
    peers: Peers,
) -> None:
    from modelyard.settings import load_settings

    workspace = values.pop("workspace")
    _run(load_settings(workspace, **values), options, host, port, sock, peers)


def _run(
    settings: Settings,
    options: GatewayOptions,
    host: str,
    port: int,
    sock: Any,
    peers: Peers | None,
) -> None:
    import uvicorn

    guard = Drain(create_app(settings, replace(options, freeze_gc=True)))
    config = uvicorn.Config(
        guard,
        http=guarded_protocol(
            default_http_protocol(),
            head_timeout=options.head_timeout,
            max_connections=options.max_connections or _connection_budget(),
        ),
        # no WebSocket routes; and an upgraded connection would leave the guard's
        # protocol (set_protocol), which then never sees it close
        ws="none",
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=30,
        # Idle keep-alive connections stay open longer than clients and load
        # balancers keep theirs (httpx 5 s, requests' pools, AWS ALB 60 s), so the
        # client closes first: with uvicorn's 5 s a client reusing a connection the
        # moment the server dropped it saw a ReadError (2 of 10,054 requests in the
        # traffic-shift test, whose idle connections reach 5 s).
        timeout_keep_alive=_KEEP_ALIVE_SECONDS,
    )
    # after uvicorn.Config: its dictConfig closes every handler that existed before
    configure_logging(options.access_log)
    server = uvicorn.Server(config)
    # uvicorn runs in a thread of its own, where it leaves signals alone; this thread
    # takes SIGTERM and Ctrl-C and drains the traffic before uvicorn stops (_drain).
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock] if sock is not None else None},
        name="modelyard-serve",
    )
    signals = 0

    def stop(signum: int, frame: Any) -> None:
        nonlocal signals
        signals += 1
        loop = guard.loop
        if signals > 1 or loop is None or not server.started:
            server.should_exit = True  # a second signal, or none served yet: stop now
            server.force_exit = signals > 2
            return
        coroutine = drain(
            server, guard, quiet=options.drain_quiet, limit=options.drain_seconds, peers=peers
        )
        asyncio.run_coroutine_threadsafe(coroutine, loop)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        thread.start()
        thread.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not server.started:
        sys.exit(3)  # the lifespan failed (the reason is logged), as uvicorn exits


def _connection_budget() -> int:
    """Connections the file descriptor limit leaves room for, beside the server's own files."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return 1000
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 100_000
    return max(16, soft - _SPARE_DESCRIPTORS)
