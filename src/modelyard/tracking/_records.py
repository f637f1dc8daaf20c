"""Read-only records of runs, as returned by the run store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["ArtifactInfo", "MetricPoint", "RunComparison", "RunInfo", "RunStatus"]


class RunStatus(StrEnum):
    """Life of a run: it starts running and ends finished, failed or killed."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"


@dataclass(frozen=True)
class MetricPoint:
    """One logged value of a metric."""

    key: str
    value: float
    step: int
    timestamp: float


@dataclass(frozen=True)
class ArtifactInfo:
    """A named file of a run."""

    name: str
    digest: str
    size_bytes: int


@dataclass(frozen=True)
class RunInfo:
    """Everything recorded about one run; ``metrics`` holds each key's last value.

    ``owner`` is the process that runs it (``host:pid``); ``process_gone`` is true
    when the run is still marked running but that process certainly ended (killed
    before it could close the run): ``RunStore.collect_stale`` marks such runs failed.
    """

    id: str
    experiment: str
    name: str
    status: RunStatus
    start_time: datetime
    end_time: datetime | None
    error: str | None
    environment: dict[str, Any]
    inputs: list[dict[str, Any]]
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    metric_counts: dict[str, int] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: list[ArtifactInfo] = field(default_factory=list)
    owner: str | None = None
    process_gone: bool = False

    @property
    def duration_seconds(self) -> float | None:
        """Wall time from start to end, ``None`` while running."""
        if self.end_time is None:
            return None
        return (_aware(self.end_time) - _aware(self.start_time)).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for ``--json`` and the REST API."""
        return {
            "id": self.id,
            "experiment": self.experiment,
            "name": self.name,
            "status": self.status.value,
            "start_time": self.start_time.isoformat(),
            "end_time": self.end_time.isoformat() if self.end_time else None,
            "duration_seconds": self.duration_seconds,
            "error": self.error,
            "environment": self.environment,
            "inputs": self.inputs,
            "params": self.params,
            "metrics": self.metrics,
            "tags": self.tags,
            "artifacts": [a.__dict__ for a in self.artifacts],
            "owner": self.owner,
            "process_gone": self.process_gone,
        }


@dataclass(frozen=True)
class RunComparison:
    """Two runs side by side: every param and metric of either."""

    a: RunInfo
    b: RunInfo
    params: list[tuple[str, str | None, str | None]]
    metrics: list[tuple[str, float | None, float | None]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "a": self.a.id,
            "b": self.b.id,
            "params": [{"key": k, "a": x, "b": y} for k, x, y in self.params],
            "metrics": [{"key": k, "a": x, "b": y} for k, x, y in self.metrics],
        }


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
