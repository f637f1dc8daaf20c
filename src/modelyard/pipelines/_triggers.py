"""What ``modelyard worker`` does for pipelines: fire schedules, run queued runs,
resume interrupted ones.

A schedule is kept beside its pipeline's saved definition (its cron expression,
the run's parameters and the next time it fires). A due schedule queues a run (a
job whose parameters say ``queued``); the worker holding the workspace's lease
(:mod:`modelyard.monitoring`'s worker, one at a time) runs queued runs oldest first,
renewing its lease between steps. A queued run whose worker was killed is marked
failed by ``JobStore.collect_stale`` with no step failed: the next lease holder
resumes it, keeping every step recorded as finished, so none runs twice. A run
interrupted ``MAX_RESUMES`` times (a step that kills its worker every time) is
left failed.

Missed firings (no worker was running) fire once, not once per missed time, as a
schedule is "the newest data, this often", not a backlog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from modelyard.errors import NotFoundError
from modelyard.jobs import Job, JobStatus
from modelyard.metadata._tables import PipelineRow, utcnow
from modelyard.pipelines._cron import Cron
from modelyard.pipelines._pipeline import check_params
from modelyard.pipelines._records import PipelineRun
from modelyard.pipelines._runner import execute
from modelyard.pipelines._store import SCHEDULE_KEY

if TYPE_CHECKING:
    from modelyard.pipelines._store import PipelineStore

__all__ = ["MAX_RESUMES", "Schedule", "clear_schedule", "run_due", "schedules", "set_schedule"]

MAX_RESUMES = 3
log = logging.getLogger("modelyard.worker")


@dataclass(frozen=True)
class Schedule:
    """A pipeline's schedule: when it fires (UTC) and with which parameters."""

    pipeline: str
    cron: str
    params: dict[str, Any]
    next_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "pipeline": self.pipeline,
            "cron": self.cron,
            "params": self.params,
            "next_at": self.next_at.isoformat(),
        }


def set_schedule(
    store: PipelineStore,
    pipeline: str,
    cron: str,
    params: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Schedule:
    """Run saved ``pipeline`` at the times ``cron`` names (replacing its schedule).

    Raises:
        NotFoundError: no saved pipeline of that name.
        InvalidInputError: the cron expression or a parameter is bad (one line).
    """
    parsed = Cron.parse(cron)
    definition = store.get(pipeline)
    given = dict(params or {})
    values = check_params(definition.get("params", {}), given)  # text from a command line
    next_at = parsed.next_after(now or datetime.now(UTC))
    assert next_at is not None  # Cron.parse refused an expression that never matches
    schedule = Schedule(pipeline, parsed.text, {k: values[k] for k in given}, next_at)
    _write(store, pipeline, schedule)
    return schedule


def clear_schedule(store: PipelineStore, pipeline: str) -> None:
    """Stop running ``pipeline`` on a schedule.

    Raises:
        NotFoundError: no saved pipeline of that name, or it has no schedule.
    """
    if not any(s.pipeline == pipeline for s in schedules(store)):
        store.get(pipeline)  # NotFoundError for an unknown pipeline
        raise NotFoundError(f"pipeline {pipeline} has no schedule")
    _write(store, pipeline, None)


def schedules(store: PipelineStore) -> list[Schedule]:
    """Every pipeline's schedule, by pipeline name."""
    with store.workspace.metadata.session() as session:
        rows = session.scalars(select(PipelineRow).order_by(PipelineRow.name)).all()
        return [
            Schedule(
                row.name,
                found["cron"],
                dict(found.get("params", {})),
                datetime.fromisoformat(found["next_at"]),
            )
            for row in rows
            if (found := row.definition.get(SCHEDULE_KEY))
        ]


def _write(store: PipelineStore, pipeline: str, schedule: Schedule | None) -> None:
    with store.workspace.metadata.session() as session:
        row = session.get(PipelineRow, pipeline)
        if row is None:
            raise NotFoundError(f"pipeline {pipeline} not found", details={"pipeline": pipeline})
        definition = {k: v for k, v in row.definition.items() if k != SCHEDULE_KEY}
        if schedule is not None:
            definition[SCHEDULE_KEY] = {
                "cron": schedule.cron,
                "params": schedule.params,
                "next_at": schedule.next_at.isoformat(),
            }
        row.definition = definition  # a new dict: the JSON column sees the change
        row.updated_at = utcnow()


def run_due(
    store: PipelineStore, tick: Callable[[], bool] | None = None, now: datetime | None = None
) -> list[PipelineRun]:
    """Queue a run of every due schedule, then run every waiting run, oldest first.

    ``tick`` is the worker's lease heartbeat, called between and during runs; once
    it answers ``False`` nothing more starts. Returns the runs carried out.
    """
    moment = now or datetime.now(UTC)
    for schedule in schedules(store):
        if schedule.next_at <= moment:
            trigger = f"schedule {schedule.cron}"
            run = store.submit(schedule.pipeline, schedule.params, trigger=trigger)
            log.info("pipeline %s: %s queued run %s", schedule.pipeline, trigger, run.id)
            following = Cron.parse(schedule.cron).next_after(moment)
            assert following is not None
            _write(store, schedule.pipeline, Schedule(
                schedule.pipeline, schedule.cron, schedule.params, following))  # fmt: skip
    done: list[PipelineRun] = []
    for job in waiting(store):
        if tick is not None and not tick():
            break
        if job.status != JobStatus.PENDING:
            resumes = int(job.params.get("resumes", 0)) + 1
            store.workspace.jobs.update_params(job.id, resumes=resumes)
            log.warning("pipeline run %s was interrupted (%s): resuming it", job.id, job.error)
        run = execute(store, job.id, tick=tick)
        log.warning("pipeline run %s of %s: %s", run.id, run.pipeline, run.error or "succeeded")
        done.append(run)
    return done


def waiting(store: PipelineStore) -> list[Job]:
    """Queued runs not started, and queued runs interrupted (no step failed, their
    process gone), oldest first."""
    jobs = store.workspace.jobs.list_jobs(kind="pipeline", limit=10_000)
    found = [job for job in jobs if job.params.get("queued") is not None and _waits(job)]
    return sorted(found, key=lambda job: job.created_at)


def _waits(job: Job) -> bool:
    if job.status == JobStatus.PENDING:
        return True
    interrupted = job.status == JobStatus.FAILED or (
        job.status == JobStatus.RUNNING and job.process_gone
    )
    steps: dict[str, dict[str, Any]] = job.params.get("steps", {})
    return (
        interrupted
        and not any(state["status"] == "failed" for state in steps.values())
        and int(job.params.get("resumes", 0)) < MAX_RESUMES
    )
