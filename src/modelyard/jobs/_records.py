"""Job records: what a long-running job is, how far it got, and its partitions."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["Job", "JobStatus", "Partition"]


class JobStatus(StrEnum):
    """Where a job is in its life; ``succeeded``, ``failed``, ``cancelled`` are final."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """Whether nothing runs for this job any more."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True)
class Partition:
    """One planned unit of a job, and once committed, what it produced."""

    key: str
    position: int
    spec: dict[str, Any]
    rows_in: int | None = None
    rows_out: int | None = None
    rows_rejected: int | None = None
    output: str | None = None
    checksum: str | None = None
    details: dict[str, Any] | None = None
    committed_at: datetime | None = None

    @property
    def committed(self) -> bool:
        """Whether the partition's output is in place and recorded."""
        return self.committed_at is not None


@dataclass(frozen=True)
class Job:
    """A long-running job: kind, status, parameters and progress.

    ``owner`` is the process running it (``host:pid``); ``process_gone`` is true
    when the job is still marked running but that process certainly ended (killed
    before it could say so): ``JobStore.collect_stale`` marks such jobs failed.
    """

    id: str
    kind: str
    status: JobStatus
    params: dict[str, Any]
    output: str | None
    rows_total: int | None
    rows_done: int
    rows_rejected: int
    partitions_total: int
    partitions_done: int
    rows_per_second: float | None
    error: str | None
    owner: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    process_gone: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``--json``, the REST API)."""
        data = asdict(self)
        data["status"] = self.status.value
        for name in ("created_at", "started_at", "finished_at", "updated_at"):
            value = data[name]
            data[name] = value.isoformat() if value is not None else None
        return data
