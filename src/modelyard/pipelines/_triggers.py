"""What ``modelyard worker`` does for pipelines: fire schedules and triggers, run
queued runs, resume interrupted ones.

A trigger fires a run when a dataset gets a new version or a monitor finds
violations in a window newer than the last it fired for.

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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from modelyard.errors import InvalidInputError, NotFoundError
from modelyard.jobs import Job, JobStatus
from modelyard.metadata._tables import PipelineRow, utcnow
from modelyard.pipelines._cron import Cron
from modelyard.pipelines._pipeline import check_params
from modelyard.pipelines._records import PipelineRun
from modelyard.pipelines._runner import execute
from modelyard.pipelines._store import SCHEDULE_KEY, TRIGGERS_KEY

if TYPE_CHECKING:
    from modelyard.pipelines._store import PipelineStore

__all__ = [
    "MAX_RESUMES",
    "Schedule",
    "Trigger",
    "clear_schedule",
    "clear_triggers",
    "run_due",
    "schedules",
    "set_schedule",
    "set_trigger",
    "triggers",
]

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
    value = None
    if schedule is not None:
        value = {
            "cron": schedule.cron,
            "params": schedule.params,
            "next_at": schedule.next_at.isoformat(),
        }
    _write_key(store, pipeline, SCHEDULE_KEY, value)


def _write_key(store: PipelineStore, pipeline: str, key: str, value: Any) -> None:
    """Set (or with ``None`` remove) ``key`` beside the pipeline's saved definition."""
    with store.workspace.metadata.session() as session:
        row = session.get(PipelineRow, pipeline)
        if row is None:
            raise NotFoundError(f"pipeline {pipeline} not found", details={"pipeline": pipeline})
        definition = {k: v for k, v in row.definition.items() if k != key}
        if value is not None:
            definition[key] = value
        row.definition = definition  # a new dict: the JSON column sees the change
        row.updated_at = utcnow()


@dataclass(frozen=True)
class Trigger:
    """Run a pipeline when something happens: ``on`` ``dataset`` (a new version of
    dataset ``name``) or ``monitor`` (monitor ``name`` finds violations in a newer
    window). ``seen`` is the last version or window it fired for (or found when set)."""

    pipeline: str
    on: str
    name: str
    params: dict[str, Any]
    seen: Any

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "pipeline": self.pipeline,
            "on": self.on,
            "name": self.name,
            "params": self.params,
            "seen": self.seen,
        }


def set_trigger(
    store: PipelineStore,
    pipeline: str,
    on: str,
    name: str,
    params: Mapping[str, Any] | None = None,
) -> Trigger:
    """Run saved ``pipeline`` when ``on`` (``dataset`` or ``monitor``) ``name`` has
    something new; what exists already does not fire it. Replaces a trigger of the
    pipeline on the same thing.

    Raises:
        NotFoundError: no such pipeline or monitor.
        InvalidInputError: an unknown kind of trigger or a bad parameter.
    """
    if on not in _EVENTS:
        raise InvalidInputError(f"trigger on {on!r}: use dataset or monitor")
    definition = store.get(pipeline)
    given = dict(params or {})
    values = check_params(definition.get("params", {}), given)
    made = Trigger(pipeline, on, name, {k: values[k] for k in given}, _EVENTS[on](store, name))
    others = [t for t in triggers(store) if t.pipeline == pipeline and (t.on, t.name) != (on, name)]
    _write_triggers(store, pipeline, [*others, made])
    return made


def clear_triggers(store: PipelineStore, pipeline: str) -> int:
    """Remove every trigger of ``pipeline``; how many there were.

    Raises:
        NotFoundError: no such pipeline.
    """
    had = [t for t in triggers(store) if t.pipeline == pipeline]
    _write_triggers(store, pipeline, [])
    return len(had)


def triggers(store: PipelineStore) -> list[Trigger]:
    """Every pipeline's triggers, by pipeline name."""
    with store.workspace.metadata.session() as session:
        rows = session.scalars(select(PipelineRow).order_by(PipelineRow.name)).all()
        return [
            Trigger(row.name, t["on"], t["name"], dict(t.get("params", {})), t.get("seen"))
            for row in rows
            for t in row.definition.get(TRIGGERS_KEY, [])
        ]


def _write_triggers(store: PipelineStore, pipeline: str, found: list[Trigger]) -> None:
    value = [{k: v for k, v in t.to_dict().items() if k != "pipeline"} for t in found]
    _write_key(store, pipeline, TRIGGERS_KEY, value or None)


def _newest_dataset(store: PipelineStore, name: str) -> int | None:
    try:
        return store.workspace.datasets.get(name).version
    except NotFoundError:  # not ingested yet: its first version fires
        return None


def _newest_violation(store: PipelineStore, name: str) -> str | None:
    windows = [r["window"] for r in store.workspace.monitors.history(name) if r["violations"]]
    return max(windows, default=None)


_EVENTS: dict[str, Callable[[PipelineStore, str], Any]] = {
    "dataset": _newest_dataset,
    "monitor": _newest_violation,
}


def _fire_triggers(store: PipelineStore) -> None:
    for trigger in triggers(store):
        try:
            newest = _EVENTS[trigger.on](store, trigger.name)
        except NotFoundError:  # the monitor was deleted: nothing to watch
            continue
        if newest is None or (trigger.seen is not None and newest <= trigger.seen):
            continue
        what = f"version {newest}" if trigger.on == "dataset" else f"violations in {newest}"
        reason = f"{trigger.on} {trigger.name}: {what}"
        run = store.submit(trigger.pipeline, trigger.params, trigger=reason)
        log.warning("pipeline %s: %s queued run %s", trigger.pipeline, reason, run.id)
        kept = [t for t in triggers(store) if t.pipeline == trigger.pipeline]
        _write_triggers(store, trigger.pipeline, [
            replace(t, seen=newest) if (t.on, t.name) == (trigger.on, trigger.name) else t
            for t in kept
        ])  # fmt: skip


def run_due(
    store: PipelineStore, tick: Callable[[], bool] | None = None, now: datetime | None = None
) -> list[PipelineRun]:
    """Queue a run of every due schedule, then run every waiting run, oldest first.

    ``tick`` is the worker's lease heartbeat, called between and during runs; once
    it answers ``False`` nothing more starts. Returns the runs carried out.
    """
    from modelyard.pipelines._guard import recover_deployments

    recover_deployments(store.workspace)
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
    _fire_triggers(store)
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
