"""Scratch folders for ingests, kept under the workspace and swept when their owner dies.

An ingest writes its Parquet into a folder of its own before the file goes to the
artifact store. A process killed half-way (kill -9, out of memory) cannot clean up
after itself, so each folder is named after the host and process that made it, and
the next ingest on that host removes the folders of processes that are gone. Kept
under the workspace (not ``$TMPDIR``) because that is where the data is going, the
user knows where to look, and one ``rm -r`` of the workspace takes everything.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["Staging"]

_PREFIX = "ingest-"


class Staging:
    """Scratch folders under ``root`` (created on first use)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root

    @contextmanager
    def folder(self) -> Iterator[Path]:
        """A new empty folder, removed when the block ends (whatever happens).

        Sweeps the folders of dead processes first.
        """
        if self.root is None:
            with tempfile.TemporaryDirectory(prefix=f"modelyard-{_PREFIX}") as scratch:
                yield Path(scratch)
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self.sweep()
        folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{_owner(os.getpid())}-", dir=self.root))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def sweep(self) -> list[Path]:
        """Remove the folders whose process (on this host) no longer runs; return them."""
        if self.root is None or not self.root.is_dir():
            return []
        removed = []
        mine = f"{_PREFIX}{_host()}-"
        for entry in self.root.iterdir():
            if not entry.name.startswith(mine):
                continue
            pid_text = entry.name[len(mine) :].split("-", 1)[0]
            if pid_text.isdigit() and not _alive(int(pid_text)):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
        return removed


def _host() -> str:
    return "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:40] or "host"


def _owner(pid: int) -> str:
    return f"{_host()}-{pid}"


def _alive(pid: int) -> bool:
    if sys.platform == "win32":
        return True  # no signal-0 probe there: leave the folder to a manual clean-up
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
