"""Pipelines of one workspace: saved definitions, runs, and the step cache."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from modelyard.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.metadata._tables import PipelineCacheRow, PipelineRow, utcnow
from modelyard.pipelines._pipeline import Pipeline, check_params, validate
from modelyard.pipelines._records import CacheChange, CacheExplanation, PipelineRun
from modelyard.pipelines._runner import execute, start_job

if TYPE_CHECKING:
    from modelyard.execution import Executor
    from modelyard.pipelines._triggers import Schedule, Trigger
    from modelyard.workspace import Workspace

__all__ = ["SCHEDULE_KEY", "TRIGGERS_KEY", "PipelineStore"]

# a saved pipeline's schedule and triggers, kept beside its definition
SCHEDULE_KEY = "schedule"
TRIGGERS_KEY = "triggers"
_KEPT = (SCHEDULE_KEY, TRIGGERS_KEY)


class PipelineStore:
    """Save, run, resume and inspect the pipelines of ``workspace``."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._metadata = workspace.metadata

    # -- definitions -----------------------------------------------------------

    def save(self, pipeline: Pipeline | Mapping[str, Any]) -> dict[str, Any]:
        """Store (or replace) a pipeline's definition; returns it.

        Raises:
            InvalidInputError: the definition is invalid, or a function step's
                function cannot be imported by name.
        """
        definition = pipeline.to_dict() if isinstance(pipeline, Pipeline) else dict(pipeline)
        validate(definition)
        for step in definition["steps"]:
            if step["kind"] == "function" and step["args"].get("function") is None:
                raise InvalidInputError(
                    f"step {step['name']}: a saved pipeline's function must be a module-level "
                    "function importable by name (not a lambda or a nested function)"
                )
        with self._metadata.session() as session:
            row = session.get(PipelineRow, definition["name"])
            now = utcnow()
            if row is None:
                session.add(
                    PipelineRow(
                        name=definition["name"],
                        definition=definition,
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                kept = {k: row.definition[k] for k in _KEPT if k in row.definition}
                row.definition = {**definition, **kept}  # saving again keeps them
                row.updated_at = now
        return definition

    def get(self, name: str) -> dict[str, Any]:
        """The saved definition of pipeline ``name``.

        Raises:
            NotFoundError: no pipeline of that name was saved.
        """
        with self._metadata.session() as session:
            row = session.get(PipelineRow, name)
            if row is None:
                raise NotFoundError(f"pipeline {name} not found", details={"pipeline": name})
            return {k: v for k, v in row.definition.items() if k not in _KEPT}

    def list(self) -> list[dict[str, Any]]:
        """Saved pipelines by name: name, step count, parameters, last saved."""
        with self._metadata.session() as session:
            rows = session.scalars(select(PipelineRow).order_by(PipelineRow.name)).all()
            return [
                {
                    "name": row.name,
                    "steps": len(row.definition.get("steps", [])),
                    "params": row.definition.get("params", {}),
                    "updated_at": row.updated_at.isoformat(),
                }
                for row in rows
            ]

    # -- runs ------------------------------------------------------------------

    def run(
        self,
        pipeline: Pipeline | str,
        params: Mapping[str, Any] | None = None,
        *,
        executor: Executor | None = None,
    ) -> PipelineRun:
        """Run a pipeline (an object, or the name of a saved one) with ``params``.

        Returns the finished run; a failed step makes a ``failed`` run (it does not
        raise), with the step's error on the run and on the step.

        Raises:
            NotFoundError: no saved pipeline of that name.
            InvalidInputError: an invalid definition or parameter; nothing runs.
        """
        if isinstance(pipeline, Pipeline):
            definition, functions = pipeline.to_dict(), pipeline.functions
        else:
            definition, functions = self.get(pipeline), {}
        values = check_params(definition.get("params", {}), dict(params or {}))
        job_id = start_job(self, definition, values)
        return execute(self, job_id, functions, executor)

    def submit(
        self, pipeline: str, params: Mapping[str, Any] | None = None, *, trigger: str = "manual"
    ) -> PipelineRun:
        """Queue a run of saved pipeline ``pipeline`` for ``modelyard worker``; returns
        it pending. The worker runs it, and resumes it if it is interrupted (its
        process killed): finished steps are kept, none runs twice.

        Raises:
            NotFoundError: no saved pipeline of that name.
            InvalidInputError: an invalid parameter; nothing is queued.
        """
        definition = self.get(pipeline)
        values = check_params(definition.get("params", {}), dict(params or {}))
        return self.get_run(start_job(self, definition, values, trigger))

    def run_due(self, tick: Callable[[], bool] | None = None) -> builtins.list[PipelineRun]:
        """What ``modelyard worker`` does for pipelines: queue a run of each due
        schedule, run queued runs, resume interrupted ones (``tick``: its lease's
        heartbeat; see :mod:`modelyard.pipelines._triggers`)."""
        from modelyard.pipelines._triggers import run_due

        return run_due(self, tick)

    def schedule(
        self, pipeline: str, cron: str, params: Mapping[str, Any] | None = None
    ) -> Schedule:
        """Run saved ``pipeline`` with ``params`` at the UTC times ``cron`` names, by
        ``modelyard worker`` (replacing its schedule).

        Raises:
            NotFoundError: no saved pipeline of that name.
            InvalidInputError: a bad cron expression or parameter (one line).
        """
        from modelyard.pipelines._triggers import set_schedule

        return set_schedule(self, pipeline, cron, params)

    def unschedule(self, pipeline: str) -> None:
        """Stop running ``pipeline`` on its schedule.

        Raises:
            NotFoundError: no such pipeline, or it has no schedule.
        """
        from modelyard.pipelines._triggers import clear_schedule

        clear_schedule(self, pipeline)

    def trigger(
        self, pipeline: str, on: str, name: str, params: Mapping[str, Any] | None = None
    ) -> Trigger:
        """Run saved ``pipeline`` (by ``modelyard worker``) when ``on`` ``dataset``
        ``name`` gets a new version, or ``monitor`` ``name`` finds new violations.

        Raises:
            NotFoundError: no such pipeline or monitor.
            InvalidInputError: an unknown kind of trigger or a bad parameter.
        """
        from modelyard.pipelines._triggers import set_trigger

        return set_trigger(self, pipeline, on, name, params)

    def untrigger(self, pipeline: str) -> int:
        """Remove every trigger of ``pipeline``; how many it had.

        Raises:
            NotFoundError: no such pipeline.
        """
        from modelyard.pipelines._triggers import clear_triggers

        return clear_triggers(self, pipeline)

    def triggers(self) -> builtins.list[Trigger]:
        """Every pipeline's triggers, by pipeline name."""
        from modelyard.pipelines._triggers import triggers

        return triggers(self)

    def schedules(self) -> builtins.list[Schedule]:
        """Every pipeline's schedule, by pipeline name."""
        from modelyard.pipelines._triggers import schedules

        return schedules(self)

    def resume(
        self,
        run_id: str,
        pipeline: Pipeline | None = None,
        *,
        executor: Executor | None = None,
    ) -> PipelineRun:
        """Carry on a failed run: its succeeded steps keep their outputs, the rest run.

        ``pipeline`` gives the functions of steps that cannot be imported by name.

        Raises:
            ConflictError: the run already succeeded, or is running in a live process.
        """
        job = self.workspace.jobs.get(run_id)
        if job.kind != "pipeline":
            raise NotFoundError(f"job {job.id} is a {job.kind} job, not a pipeline run")
        if job.status.value == "running" and not job.process_gone:
            raise ConflictError(f"pipeline run {job.id} is running in {job.owner}")
        functions = pipeline.functions if pipeline is not None else {}
        return execute(self, job.id, functions, executor)

    def get_run(self, run_id: str) -> PipelineRun:
        """A run by id or unique prefix.

        Raises:
            NotFoundError: no such pipeline run.
        """
        job = self.workspace.jobs.get(run_id)
        if job.kind != "pipeline":
            raise NotFoundError(f"job {job.id} is a {job.kind} job, not a pipeline run")
        return PipelineRun.from_job(job)

    def runs(self, pipeline: str | None = None, limit: int = 50) -> builtins.list[PipelineRun]:
        """Runs, newest first (of one pipeline when named)."""
        jobs = self.workspace.jobs.list_jobs(kind="pipeline", limit=limit if not pipeline else 1000)
        found = [PipelineRun.from_job(j) for j in jobs]
        if pipeline is not None:
            found = [r for r in found if r.pipeline == pipeline]
        return found[:limit]

    def explain_cache(self, run_id: str, step: str) -> CacheExplanation:
        """Why ``step`` of a run did or did not reuse a result: its key parts compared
        with the same step's in the pipeline's previous run.

        Raises:
            NotFoundError: no such run or step.
        """
        run = self.get_run(run_id)
        record = run.step(step)
        previous = next(
            (
                r
                for r in self.runs(run.pipeline, limit=1000)
                if r.created_at < run.created_at and r.step(step).parts is not None
            ),
            None,
        )
        if previous is None:
            return CacheExplanation(
                step, record.cache, record.key, None, None, [], record.reason or "no earlier run"
            )
        before = previous.step(step)
        changes = [
            CacheChange(part, old, new)
            for part, old, new in _differences(before.parts or {}, record.parts or {})
        ]
        return CacheExplanation(
            step, record.cache, record.key, previous.id, before.key, changes, record.reason
        )

    # -- the cache -------------------------------------------------------------

    def cached(self, key: str, max_age: float | None = None) -> dict[str, Any] | None:
        """The outputs stored under a cache key (no older than ``max_age`` seconds), or ``None``."""
        with self._metadata.session() as session:
            row = session.get(PipelineCacheRow, key)
            if row is None:
                return None
            created = row.created_at
            if created.tzinfo is None:  # SQLite hands back naive UTC
                created = created.replace(tzinfo=UTC)
            if max_age is not None and (utcnow() - created).total_seconds() > max_age:
                return None
            return dict(row.outputs)

    def remember(
        self, key: str, pipeline: str, step: str, outputs: dict[str, Any], job_id: str
    ) -> None:
        """Store a step's outputs under its cache key (a later identical key replaces it)."""
        with self._metadata.session() as session:
            session.merge(
                PipelineCacheRow(
                    key=key,
                    pipeline=pipeline,
                    step=step,
                    outputs=outputs,
                    job_id=job_id,
                    created_at=utcnow(),
                )
            )


def _differences(before: Any, after: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """The paths where two key-part trees differ, with the old and new value."""
    if isinstance(before, dict) and isinstance(after, dict) and not _is_leaf(before, after):
        found: list[tuple[str, Any, Any]] = []
        for key in sorted(set(before) | set(after), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            found += _differences(before.get(key), after.get(key), path)
        return found
    return [] if before == after else [(prefix, before, after)]


def _is_leaf(before: dict[str, Any], after: dict[str, Any]) -> bool:
    # a dataset or model value is shown whole: its ref and content id together
    return any(k in d for d in (before, after) for k in ("ref", "fingerprint", "sha256"))
