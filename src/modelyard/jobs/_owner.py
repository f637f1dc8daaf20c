"""Which process owns a running run or job, and whether that process is gone.

A process killed with ``kill -9`` (or by the out-of-memory killer, or a reboot)
cannot mark its run or job ended. So each records its owner, ``host:pid``, and a
reader asks whether that process still runs. Only the owner's own host can tell:
elsewhere the answer is "not known to be gone". A pid may be reused by a later
process; where the operating system says when a process started (Linux
``/proc``), a process that started after the moment the owner was known to run is
not the owner.

The host is the host name, so processes in another PID namespace that share it
(a container on the host's network) look gone from outside their namespace:
collect stale records where their processes ran.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["ProcessOwner"]

# A start time from /proc is today's boot time plus ticks since boot, so it moves
# when the wall clock is stepped (NTP) after the process started. Calling a live
# owner gone would fail its run, so a process counts as another only when it
# started well after the owner was seen running.
_CLOCK_SLACK_SECONDS = 60.0


@dataclass(frozen=True)
class ProcessOwner:
    """A process on a host, written ``host:pid``."""

    host: str
    pid: int

    @classmethod
    def current(cls) -> ProcessOwner:
        """This process."""
        return cls(socket.gethostname(), os.getpid())

    @classmethod
    def parse(cls, text: str | None) -> ProcessOwner | None:
        """The owner written as ``host:pid``; ``None`` for anything else."""
        host, _, pid = (text or "").rpartition(":")
        if not host or not (pid.isascii() and pid.isdigit()):
            return None
        return cls(host, int(pid))

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"

    def gone(self, running_at: datetime) -> bool:
        """Whether this process certainly no longer runs.

        Args:
            running_at: a moment the owner certainly ran (it wrote its record then),
                so a process with its pid that started later is another process.

        ``False`` when it runs, when it may run (another host), or when this
        platform cannot probe processes.
        """
        if self.host != socket.gethostname() or sys.platform == "win32":
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # it runs, as another user
        started = _start_time(self.pid)
        if started is None:
            return False
        moment = running_at if running_at.tzinfo else running_at.replace(tzinfo=UTC)
        return started.timestamp() > moment.timestamp() + _CLOCK_SLACK_SECONDS


def _start_time(pid: int) -> datetime | None:
    """When process ``pid`` started, where ``/proc`` says (Linux); else ``None``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            line
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration):
        return None
    # Field 22, counted after the command name, which may hold spaces and ")".
    fields = stat.rpartition(")")[2].split()
    try:
        ticks = int(fields[19])
        seconds = int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")
    except (IndexError, ValueError, OSError):
        return None
    return datetime.fromtimestamp(seconds, UTC)
