"""The job store: job records and their partitions in the metadata database.

Everything a job needs to carry on lives here, not in the memory of the process
that started it: its parameters, its planned partitions and which of them are
committed. So a job survives a crash, a ``kill -9`` or a reboot of its starter,
and ``resume`` picks up exactly what is not committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from modelyard.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.jobs._owner import ProcessOwner
from modelyard.jobs._records import Job, JobStatus, Partition
from modelyard.metadata import MetadataStore
from modelyard.metadata._tables import JobPartitionRow, JobRow, utcnow

__all__ = ["JobStore", "this_owner"]


def this_owner() -> str:
    """``host:pid`` of the current process: who runs a job."""
    return str(ProcessOwner.current())


class JobStore:
    """Jobs of one workspace."""

    def __init__(self, metadata: MetadataStore) -> None:
        self._metadata = metadata

    # -- creating --------------------------------------------------------------

    def create(
        self,
        kind: str,
        params: dict[str, Any],
        partitions: Iterable[tuple[str, dict[str, Any]]] = (),
        *,
        output: str | None = None,
        rows_total: int | None = None,
    ) -> Job:
        """Record a new ``pending`` job with its planned partitions ``(key, spec)``."""
        job_id = uuid.uuid4().hex
        planned = list(partitions)
        keys = [key for key, _ in planned]
        if len(set(keys)) != len(keys):
            raise InvalidInputError("partition keys of a job must be unique")
        with self._metadata.session() as session:
            now = utcnow()
            session.add(
                JobRow(
                    id=job_id,
                    kind=kind,
                    status=JobStatus.PENDING.value,
                    params=params,
                    output=output,
                    rows_total=rows_total,
                    rows_done=0,
                    rows_rejected=0,
                    partitions_total=len(planned),
                    partitions_done=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            session.flush()
            session.add_all(
                JobPartitionRow(job_id=job_id, key=key, position=index, spec=spec, details={})
                for index, (key, spec) in enumerate(planned)
            )
        return self.get(job_id)

    # -- reading ---------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        """A job by id or unique id prefix (at least 4 characters).

        Raises:
            NotFoundError: no such job.
            InvalidInputError: the prefix is too short or matches several jobs.
        """
        with self._metadata.session() as session:
            return _to_job(self._row(session, job_id))

    def list_jobs(
        self, kind: str | None = None, status: JobStatus | None = None, limit: int = 50
    ) -> list[Job]:
        """Jobs, newest first."""
        query = select(JobRow).order_by(JobRow.created_at.desc()).limit(limit)
        if kind is not None:
            query = query.where(JobRow.kind == kind)
        if status is not None:
            query = query.where(JobRow.status == status.value)
        with self._metadata.session() as session:
            return [_to_job(row) for row in session.scalars(query).all()]

    def partitions(self, job_id: str, *, committed: bool | None = None) -> list[Partition]:
        """The job's partitions in planned order (only committed or pending ones if asked)."""
        with self._metadata.session() as session:
            full_id = self._row(session, job_id).id
            query = (
                select(JobPartitionRow)
                .where(JobPartitionRow.job_id == full_id)
                .order_by(JobPartitionRow.position)
            )
            if committed is True:
                query = query.where(JobPartitionRow.committed_at.is_not(None))
            elif committed is False:
                query = query.where(JobPartitionRow.committed_at.is_(None))
            return [_to_partition(row) for row in session.scalars(query).all()]

    # -- changing --------------------------------------------------------------

    def start(self, job_id: str, owner: str | None = None) -> Job:
        """Mark a job ``running`` by ``owner`` (default: this process).

        Raises:
            ConflictError: the job already succeeded.
        """
        with self._metadata.session() as session:
            row = self._row(session, job_id)
            if row.status == JobStatus.SUCCEEDED.value:
                raise ConflictError(f"job {row.id} already succeeded: nothing to run")
            now = utcnow()
            row.status = JobStatus.RUNNING.value
            row.owner = owner or this_owner()
            row.error = None
            row.finished_at = None
            row.started_at = row.started_at or now
            row.updated_at = now
            return _to_job(row)

    def commit_partition(
        self,
        job_id: str,
        key: str,
        *,
        rows_in: int,
        rows_out: int,
        rows_rejected: int,
        output: str | None,
        checksum: str | None,
        details: dict[str, Any] | None = None,
        rows_per_second: float | None = None,
    ) -> Job:
        """Record a partition whose output is already in place, and add up progress.

        Recording twice is harmless: the second record replaces the first and the
        totals are recomputed from the partition table.
        """
        with self._metadata.session() as session:
            row = self._row(session, job_id)
            session.execute(
                update(JobPartitionRow)
                .where(JobPartitionRow.job_id == row.id, JobPartitionRow.key == key)
                .values(
                    rows_in=rows_in,
                    rows_out=rows_out,
                    rows_rejected=rows_rejected,
                    output=output,
                    checksum=checksum,
                    details=details or {},
                    committed_at=utcnow(),
                )
            )
            self._recount(session, row)
            if rows_per_second is not None:
                row.rows_per_second = rows_per_second
            return _to_job(row)

    def forget_partitions(self, job_id: str, keys: Iterable[str]) -> None:
        """Mark partitions as not committed again (their output is to be redone)."""
        with self._metadata.session() as session:
            row = self._row(session, job_id)
            session.execute(
                update(JobPartitionRow)
                .where(JobPartitionRow.job_id == row.id, JobPartitionRow.key.in_(list(keys)))
                .values(committed_at=None, rows_in=None, rows_out=None, rows_rejected=None)
            )
            self._recount(session, row)

    def finish(
        self,
        job_id: str,
        status: JobStatus,
        *,
        error: str | None = None,
        rows_per_second: float | None = None,
    ) -> Job:
        """Put a job in a final state (``succeeded``, ``failed`` or ``cancelled``)."""
        if not status.finished:
            raise InvalidInputError(f"{status.value} is not a final job status")
        with self._metadata.session() as session:
            row = self._row(session, job_id)
            now = utcnow()
            row.status = status.value
            row.error = error
            row.finished_at = now
            row.updated_at = now
            if rows_per_second is not None:
                row.rows_per_second = rows_per_second
            return _to_job(row)

    def collect_stale(self) -> list[Job]:
        """Mark failed every job still marked running whose process certainly ended.

        Its committed partitions stay committed: resuming the job redoes only the
        rest. Only the owner's host can tell that it ended, so jobs of other hosts
        are left as they are. Returns the jobs marked failed.
        """
        with self._metadata.session() as session:
            rows = session.scalars(
                select(JobRow).where(JobRow.status == JobStatus.RUNNING.value)
            ).all()
            stale = [(row, owner) for row in rows if (owner := _gone_owner(row)) is not None]
            now = utcnow()
            for row, owner in stale:
                row.status = JobStatus.FAILED.value
                row.error = (
                    f"its process ({owner}) ended without finishing the job (killed?); "
                    "resume it to carry on"
                )
                row.finished_at = now
                row.updated_at = now
            return [_to_job(row) for row, _ in stale]

    def cancel(self, job_id: str) -> Job:
        """Ask a job to stop: a running job stops after the partitions in flight.

        Raises:
            ConflictError: the job already finished.
        """
        with self._metadata.session() as session:
            row = self._row(session, job_id)
            if JobStatus(row.status).finished:
                raise ConflictError(f"job {row.id} already {row.status}: nothing to cancel")
        return self.finish(job_id, JobStatus.CANCELLED, error="cancelled on request")

    def release(self, job_id: str, owner: str | None = None) -> Job:
        """Forget the owner of a job that ``owner`` (default: this process) stopped
        running, so that another process may take it up at once."""
        with self._metadata.session() as session:
            row = self._row(session, job_id)
            if row.owner == (owner or this_owner()):
                row.owner = None
                row.updated_at = utcnow()
            return _to_job(row)

    def update_params(self, job_id: str, **changes: Any) -> Job:
        """Merge ``changes`` into the job's parameters."""
        with self._metadata.session() as session:
            row = self._row(session, job_id)
            row.params = {**row.params, **changes}
            row.updated_at = utcnow()
            return _to_job(row)

    def delete(self, job_id: str) -> None:
        """Remove a job and its partitions (its output files stay)."""
        with self._metadata.session() as session:
            row = self._row(session, job_id)
            session.execute(delete(JobPartitionRow).where(JobPartitionRow.job_id == row.id))
            session.delete(row)

    # -- helpers ---------------------------------------------------------------

    def _row(self, session: Session, job_id: str) -> JobRow:
        row = session.get(JobRow, job_id)
        if row is not None:
            return row
        if len(job_id) < 4:
            raise InvalidInputError(f"job id {job_id!r} is too short: give at least 4 characters")
        prefix = JobRow.id.startswith(job_id, autoescape=True)  # _ and % are characters
        matches = session.scalars(select(JobRow).where(prefix)).all()
        if not matches:
            raise NotFoundError(f"job {job_id} not found", details={"job": job_id})
        if len(matches) > 1:
            raise InvalidInputError(
                f"job id prefix {job_id!r} matches {len(matches)} jobs: give more characters"
            )
        return matches[0]

    def _recount(self, session: Session, row: JobRow) -> None:
        session.flush()
        done, rows, rejected = session.execute(
            select(
                func.count(JobPartitionRow.key),
                func.coalesce(func.sum(JobPartitionRow.rows_in), 0),
                func.coalesce(func.sum(JobPartitionRow.rows_rejected), 0),
            ).where(JobPartitionRow.job_id == row.id, JobPartitionRow.committed_at.is_not(None))
        ).one()
        row.partitions_done = int(done or 0)
        row.rows_done = int(rows or 0)
        row.rows_rejected = int(rejected or 0)
        row.updated_at = utcnow()


def _to_job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        status=JobStatus(row.status),
        params=dict(row.params),
        output=row.output,
        rows_total=row.rows_total,
        rows_done=row.rows_done,
        rows_rejected=row.rows_rejected,
        partitions_total=row.partitions_total,
        partitions_done=row.partitions_done,
        rows_per_second=row.rows_per_second,
        error=row.error,
        owner=row.owner,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        updated_at=row.updated_at,
        process_gone=_gone_owner(row) is not None,
    )


def _gone_owner(row: JobRow) -> ProcessOwner | None:
    """The owner of a job marked running, if that process certainly ended.

    Every write to the row stamps ``updated_at``, its owner's start included, so
    the owner ran at that moment (a process with its pid that started later is
    another process).
    """
    owner = ProcessOwner.parse(row.owner)
    if row.status != JobStatus.RUNNING.value or owner is None:
        return None
    return owner if owner.gone(row.updated_at) else None


def _to_partition(row: JobPartitionRow) -> Partition:
    return Partition(
        key=row.key,
        position=row.position,
        spec=dict(row.spec),
        rows_in=row.rows_in,
        rows_out=row.rows_out,
        rows_rejected=row.rows_rejected,
        output=row.output,
        checksum=row.checksum,
        details=dict(row.details or {}),
        committed_at=row.committed_at,
    )
