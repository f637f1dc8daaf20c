"""``modelyard worker``: runs due monitors and pipelines, one worker at a time per workspace.

The lease is a job record of kind ``worker-lease`` in the metadata database: its
owner (``host:pid``) is the worker in charge and its ``updated_at`` the last
heartbeat. Another worker takes the lease over when the holder's heartbeat is
older than the lease's time to live, or at once when the holder's process is
certainly gone (killed with SIGKILL on this host). The claim runs under the
workspace's name lock, so two workers starting together cannot both win.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from modelyard.jobs import JobStatus
from modelyard.jobs._owner import ProcessOwner
from modelyard.metadata._locks import lock_name
from modelyard.metadata._tables import JobRow, utcnow

if TYPE_CHECKING:
    from modelyard.monitoring._monitor import MonitorRun
    from modelyard.workspace import Workspace

__all__ = ["LEASE_KIND", "Worker"]

LEASE_KIND = "worker-lease"
log = logging.getLogger("modelyard.worker")


class Worker:
    """One worker process: holds the lease, runs the monitors that are due.

    Args:
        workspace: the workspace whose monitors it runs.
        ttl: seconds after the last heartbeat at which another worker may take over.
        owner: who this worker is (default: this process, ``host:pid``).
    """

    def __init__(self, workspace: Workspace, *, ttl: float = 60.0, owner: str | None = None):
        self._ws = workspace
        self._ttl = ttl
        self.owner = owner or str(ProcessOwner.current())

    def acquire(self) -> bool:
        """Take or renew the lease; ``True`` while this worker holds it."""
        with self._ws.metadata.session() as session:
            lock_name(session, "lease", LEASE_KIND)
            row = session.scalars(
                select(JobRow).where(JobRow.kind == LEASE_KIND).order_by(JobRow.created_at)
            ).first()
            now = utcnow()
            if row is None:
                session.add(
                    JobRow(
                        id=uuid.uuid4().hex,
                        kind=LEASE_KIND,
                        status=JobStatus.RUNNING.value,
                        params={},
                        owner=self.owner,
                        created_at=now,
                        started_at=now,
                        updated_at=now,
                    )
                )
                return True
            if row.owner != self.owner and not self._expired(row, now):
                return False
            if row.owner != self.owner:
                log.info("worker %s takes the lease over from %s", self.owner, row.owner)
                row.started_at = now
            row.owner = self.owner
            row.status = JobStatus.RUNNING.value
            row.updated_at = now
            return True

    def release(self) -> None:
        """Give the lease up (a graceful stop), so the next worker need not wait."""
        with self._ws.metadata.session() as session:
            lock_name(session, "lease", LEASE_KIND)
            for row in session.scalars(select(JobRow).where(JobRow.kind == LEASE_KIND)):
                if row.owner == self.owner:
                    row.owner = None
                    row.updated_at = utcnow() - timedelta(seconds=self._ttl * 2)

    def due(self) -> list[str]:
        """Monitors whose schedule says run: never run, or last run ``every`` ago."""
        now = datetime.now(UTC)
        names = []
        for monitor in self._ws.monitors.list():
            last = monitor.last_run_at
            every = float(monitor.spec.get("every_seconds") or 3600)
            if last is None or (now - _aware(last)).total_seconds() >= every:
                names.append(monitor.name)
        return names

    def run_once(self, *, include_current: bool = False) -> list[MonitorRun]:
        """Run every due monitor if this worker holds the lease; what each run did."""
        if not self.acquire():
            return []
        self._ws.jobs.collect_stale()
        runs = []
        for name in self.due():
            try:
                runs.append(self._ws.monitors.run(name, include_current=include_current))
            except Exception:  # one broken monitor must not stop the others
                log.exception("monitor %s failed", name)
            self.acquire()  # heartbeat between monitors
        self._run_pipelines()
        return runs

    def _run_pipelines(self) -> None:
        """Pipelines' due schedules, queued runs and interrupted runs (issue 23): the
        same lease, renewed between and during their steps."""
        from modelyard.pipelines import PipelineStore

        try:
            PipelineStore(self._ws).run_due(tick=self.acquire)
        except Exception:  # a broken pipeline must not stop the monitors
            log.exception("running pipelines failed")

    def serve(self, poll: float = 30.0, *, include_current: bool = False) -> None:
        """Run due monitors every ``poll`` seconds until interrupted."""
        try:
            while True:
                for outcome in self.run_once(include_current=include_current):
                    log.warning("monitor %s: %s", outcome.monitor, outcome.message)
                time.sleep(poll)  # the schedule's tick: nothing to wait for in between
        finally:
            self.release()

    def _expired(self, row: JobRow, now: datetime) -> bool:
        if (now - _aware(row.updated_at)).total_seconds() > self._ttl:
            return True
        holder = ProcessOwner.parse(row.owner)
        return holder is None or holder.gone(_aware(row.updated_at))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
