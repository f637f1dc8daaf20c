"""A batch job's own fork server: one process imports what the job's workers need,
and every worker is forked from it already warm.

Spawned, each worker imports numpy, pyarrow and the model's library itself: about
0.75 s of CPU per worker on an idle machine, paid once per worker, beside the
driver that plans the job. Forked from a server that imported them once, a
worker starts in milliseconds, and the job pays for one import instead of one per
worker.

This is multiprocessing's ``forkserver`` method, but with a server of the job's
own, not the one each process shares: what the server preloads is the job's
(its library, whether pyarrow may import pandas), it stops with the job's
workers, and nothing else in the process (another job, a caller's own
``forkserver`` pool) inherits it. multiprocessing has no public way to ask a
server other than the process-wide one, so :class:`_Popen` repeats its
``_launch`` (ten lines of Python 3.11's ``popen_forkserver``) against this one;
the tests in ``tests/batch/test_forkserver.py`` start real workers through it.

A worker's parent is the server, not the driver: each worker still dies with its
parent (``PR_SET_PDEATHSIG``, :func:`~modelyard.execution._local.die_with_parent`),
and the server dies with the driver (:mod:`modelyard.batch._preload`), so a
``kill -9`` of the driver still takes every worker down.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from multiprocessing import context, forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

__all__ = ["JobServer", "available", "preload_modules"]

PRELOAD = "modelyard.batch._preload"


_LAUNCH_COPIED_FROM = (3, 11)


def available() -> bool:
    """Whether this platform has fork servers (POSIX with descriptor passing) and this
    Python is the one whose ``_launch`` :class:`_Popen` repeats: on any other, a job's
    workers are spawned as before rather than trusting a copy of another version's
    internals (check ``popen_forkserver`` of a new version, then widen this)."""
    return (
        sys.platform != "win32"
        and bool(reduction.HAVE_SEND_HANDLE)
        and sys.version_info[:2] == _LAUNCH_COPIED_FROM
    )


def preload_modules(warm: Sequence[str], pandas: bool) -> list[str]:
    """What a job's server imports, in order (each by ``import``; one that will not
    import is skipped, as multiprocessing's preload does):

    - ``__main__``, when it is a script: a spawned worker would re-import it;
    - pandas, for a job whose partitions convert to pandas (capture); first, so
      that pyarrow finds it;
    - :mod:`modelyard.batch._preload`: pyarrow, the partition code, and the
      process marked as the job's alone, with scikit-learn refused to the imports
      that follow;
    - the model's library (``warm``), thus imported without scikit-learn
      (:func:`~modelyard.batch._scorer.import_lean`).
    """
    return ["__main__", *(["pandas"] if pandas else []), PRELOAD, *warm]


class _Server(forkserver.ForkServer):
    """multiprocessing's fork server (the class behind the process-wide one)."""

    _forkserver_pid: int | None  # set by ensure_running

    if TYPE_CHECKING:

        def _stop(self) -> None: ...


class JobServer:
    """One job's fork server, and the multiprocessing context that forks from it."""

    def __init__(self, preload: Sequence[str]) -> None:
        self._server = _Server()
        self._server.set_forkserver_preload(list(preload))
        self.context = _Context(self._server)

    def start(self) -> int:
        """Start the server now, from the calling thread (the server dies with it);
        return its pid at once, while it imports."""
        self._server.ensure_running()
        pid = self._server._forkserver_pid
        assert pid is not None
        return pid

    def stop(self) -> None:
        """Stop the server once the workers forked from it have exited (each holds
        its lifeline open: stopped earlier, it would wait for them)."""
        self._server._stop()


class _Process(context.ForkServerProcess):
    """A process forked by one job's server (the server is not sent to the child)."""

    def __init__(self, server: forkserver.ForkServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._server = server

    @staticmethod
    def _Popen(process_obj: BaseProcess) -> popen_forkserver.Popen:  # noqa: N802
        assert isinstance(process_obj, _Process)
        return _Popen(process_obj, process_obj._server)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_server", None)
        return state


class _Context(context.ForkServerContext):
    """The ``forkserver`` context, with processes forked by one job's server."""

    def __init__(self, server: forkserver.ForkServer) -> None:
        super().__init__()
        self._server = server

    def Process(self, *args: Any, **kwargs: Any) -> _Process:  # type: ignore[override]  # noqa: N802
        """Processes of this context (``multiprocessing``'s name: a class there)."""
        return _Process(self._server, *args, **kwargs)


class _Popen(popen_forkserver.Popen):
    """``popen_forkserver.Popen`` asking one job's server to fork the process."""

    _fds: list[int]  # set by popen_forkserver.Popen: descriptors the child inherits

    def __init__(self, process_obj: BaseProcess, server: forkserver.ForkServer) -> None:
        self._server = server
        super().__init__(process_obj)

    def _launch(self, process_obj: BaseProcess) -> None:
        # popen_forkserver.Popen._launch (Python 3.11), with self._server for the
        # module's process-wide server
        prep_data = spawn.get_preparation_data(process_obj.name)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = self._server.connect_to_new_process(self._fds)
        # a duplicate of the data pipe's write end: the child's sentinel of its parent
        parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, _close, (parent_w, self.sentinel))
        with os.fdopen(w, "wb") as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


def _close(*fds: int) -> None:
    for fd in fds:
        os.close(fd)
