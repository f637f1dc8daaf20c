"""A batch job's workers forked from multiprocessing's fork server, already warm.

Spawned, each worker imports numpy, pyarrow and the model's library itself, paid
once per worker beside the driver that plans the job. Forked from a server that
imported them once, a worker starts in milliseconds. This is multiprocessing's own
``forkserver`` start method, through its public API only: the context, with
:meth:`~multiprocessing.context.BaseContext.set_forkserver_preload` naming what the
server imports. The server is the process's one fork server, so its preload list
is the first job's (later jobs' workers import what else they need as they start),
and it lives until the process exits, as multiprocessing has it.

A worker's parent is the server, not the driver: each worker dies with the
server (``PR_SET_PDEATHSIG``, :func:`~modelyard.execution._local.die_with_parent`),
and the server with the thread that started it (:func:`start`; it asks as it
imports :mod:`modelyard.batch._preload`), so a ``kill -9`` of the driver still
takes every worker down. multiprocessing's own lifeline (the server exits once no
process holds its pipe) cannot do that alone: every worker holds that pipe, so that
it could start processes of its own. Should the driver die before the server asks,
the server sees the lifeline close once any request in flight is served, and a
worker forked meanwhile finds the driver gone as it starts, and exits.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.context import ForkServerContext

__all__ = [
    "PRELOAD",
    "available",
    "forkserver_context",
    "preload_modules",
    "server_pid",
    "start",
]

PRELOAD = "modelyard.batch._preload"


def available() -> bool:
    """Whether this platform has fork servers (POSIX with descriptor passing)."""
    return "forkserver" in multiprocessing.get_all_start_methods()


def preload_modules(warm: Sequence[str]) -> list[str]:
    """What the server imports, in order (each by ``import``; one that will not
    import is skipped, as multiprocessing's preload does):

    - ``__main__``, when it is a script: a spawned worker would re-import it;
    - :mod:`modelyard.batch._preload`: pyarrow and the partition code;
    - the model's library (``warm``).
    """
    return ["__main__", PRELOAD, *warm]


def forkserver_context(preload: Sequence[str]) -> ForkServerContext:
    """The ``forkserver`` context, its server asked to import ``preload`` (effective
    when this process starts its server, i.e. for the first job)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    return context


def start() -> None:
    """Start the fork server now, from the calling thread (the server dies with that
    thread: call it from one that outlives the job), without waiting for its imports."""
    import multiprocessing.forkserver

    multiprocessing.forkserver.ensure_running()


def server_pid(context: ForkServerContext) -> int:
    """The fork server's process id, started if need be: the parent of a process it
    forks (returns once the server has done its imports)."""
    reader, writer = context.Pipe(duplex=False)
    probe = context.Process(target=_send_parent, args=(writer,), daemon=True)
    probe.start()
    writer.close()
    try:
        pid: int = reader.recv()
    finally:
        reader.close()
        probe.join()
    return pid


def _send_parent(writer: multiprocessing.connection.Connection) -> None:
    writer.send(os.getppid())
    writer.close()
