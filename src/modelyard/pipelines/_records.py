"""A pipeline run as recorded: the job, and each step's status, cache use and timings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from modelyard.jobs import Job, JobStatus

__all__ = ["CacheChange", "CacheExplanation", "PipelineRun", "StepRecord", "new_step_state"]


def new_step_state(kind: str, depends: list[str]) -> dict[str, Any]:
    """A step's state before it runs (kept in the job's parameters under ``steps``)."""
    return {
        "kind": kind,
        "depends": depends,
        "status": "pending",
        "cache": None,
        "key": None,
        "parts": None,
        "outputs": None,
        "started_at": None,
        "finished_at": None,
        "error": None,
    }


@dataclass(frozen=True)
class StepRecord:
    """One step of a run.

    Attributes:
        status: ``pending``, ``running``, ``succeeded``, ``failed`` or ``skipped``.
        cache: ``hit`` (outputs reused), ``miss`` (ran), ``off`` (never cached) or
            ``None`` (did not get that far).
        started_at, finished_at: wall-clock seconds (epoch) where the step ran.
        reason: why it was skipped or not cached.
        attempts: how many times it ran (retries included; 0: it did not run here).
    """

    name: str
    kind: str
    depends: list[str]
    status: str
    cache: str | None
    key: str | None
    parts: dict[str, Any] | None
    outputs: dict[str, Any] | None
    started_at: float | None
    finished_at: float | None
    error: str | None
    reason: str | None = None
    attempts: int = 0

    @property
    def seconds(self) -> float | None:
        """How long the step ran (``None`` when it did not run)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "kind": self.kind,
            "depends": self.depends,
            "status": self.status,
            "cache": self.cache,
            "key": self.key,
            "outputs": self.outputs,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "seconds": self.seconds,
            "error": self.error,
            "reason": self.reason,
            "attempts": self.attempts,
        }


@dataclass(frozen=True)
class PipelineRun:
    """A run of a pipeline: a job of kind ``pipeline`` and its steps in order."""

    id: str
    pipeline: str
    status: JobStatus
    params: dict[str, Any]
    steps: list[StepRecord]
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    trigger: str | None = None  # why a worker's run was queued; None: run by its caller

    @classmethod
    def from_job(cls, job: Job) -> PipelineRun:
        """Read a run from its job record."""
        states: dict[str, dict[str, Any]] = job.params.get("steps", {})
        order = [step["name"] for step in job.params["definition"]["steps"]]
        return cls(
            id=job.id,
            pipeline=job.params["pipeline"],
            status=job.status,
            params=dict(job.params.get("params", {})),
            steps=[
                StepRecord(
                    name=name,
                    kind=states[name]["kind"],
                    depends=list(states[name]["depends"]),
                    status=states[name]["status"],
                    cache=states[name]["cache"],
                    key=states[name]["key"],
                    parts=states[name]["parts"],
                    outputs=states[name]["outputs"],
                    started_at=states[name]["started_at"],
                    finished_at=states[name]["finished_at"],
                    error=states[name]["error"],
                    reason=states[name].get("reason"),
                    attempts=states[name].get("attempts", 0),
                )
                for name in order
            ],
            error=job.error,
            created_at=job.created_at,
            finished_at=job.finished_at,
            trigger=job.params.get("queued"),
        )

    def step(self, name: str) -> StepRecord:
        """The step named ``name``.

        Raises:
            NotFoundError: the run has no such step.
        """
        from modelyard.errors import NotFoundError

        for step in self.steps:
            if step.name == name:
                return step
        names = ", ".join(s.name for s in self.steps)
        raise NotFoundError(f"run {self.id[:12]} has no step {name} (steps: {names})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "pipeline": self.pipeline,
            "status": self.status.value,
            "params": self.params,
            "error": self.error,
            "created_at": self.created_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "trigger": self.trigger,
            "steps": [step.to_dict() for step in self.steps],
        }


@dataclass(frozen=True)
class CacheChange:
    """One part of a cache key that differs from the previous run's."""

    part: str
    before: Any
    after: Any


@dataclass(frozen=True)
class CacheExplanation:
    """Why a step did or did not reuse a result, against the pipeline's previous run."""

    step: str
    cache: str | None
    key: str | None
    previous_run: str | None
    previous_key: str | None
    changes: list[CacheChange]
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "step": self.step,
            "cache": self.cache,
            "key": self.key,
            "previous_run": self.previous_run,
            "previous_key": self.previous_key,
            "reason": self.reason,
            "changes": [
                {"part": c.part, "before": c.before, "after": c.after} for c in self.changes
            ],
        }
