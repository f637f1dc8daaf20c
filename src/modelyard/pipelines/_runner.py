"""Running a pipeline: its steps in dependency order, independent ones at once.

One thread (the caller's) schedules and records; the steps run elsewhere: a
function step whose function is importable by name on the workspace's Executor
(another process), every other step in a thread of this process. Each step's
state lives in the run's job record, so a failed run can be resumed: finished
steps keep their outputs and only the rest run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from modelyard.errors import ConflictError, InvalidInputError
from modelyard.jobs import JobStatus
from modelyard.pipelines._kinds import (
    call_function,
    code_version,
    file_digest,
    key_of,
    named_inputs,
    run_builtin,
    uncacheable_reason,
)
from modelyard.pipelines._pipeline import validate
from modelyard.pipelines._records import PipelineRun, new_step_state
from modelyard.pipelines._refs import references, resolve
from modelyard.pipelines._steps import import_function

if TYPE_CHECKING:
    from modelyard.execution import Executor
    from modelyard.pipelines._store import PipelineStore
    from modelyard.workspace import Workspace

__all__ = ["execute", "start_job"]

_THREADS = 8  # built-in steps mostly wait on I/O or release the GIL (training)
TICK_SECONDS = 10.0  # a worker's heartbeat while steps run (its lease lives 60 s)


def start_job(
    store: PipelineStore,
    definition: dict[str, Any],
    params: dict[str, Any],
    trigger: str | None = None,
) -> str:
    """Record a new pending run of ``definition`` with ``params``; returns its job id.

    ``trigger`` (why it was queued: ``manual``, ``schedule ...``) leaves the run to
    ``modelyard worker``, which also resumes it when it was interrupted.
    """
    validate(definition)
    states = {
        step["name"]: new_step_state(step["kind"], _depends(step)) for step in definition["steps"]
    }
    job = store.workspace.jobs.create(
        "pipeline",
        {
            "pipeline": definition["name"],
            "definition": definition,
            "params": params,
            "steps": states,
            **({"queued": trigger} if trigger is not None else {}),
        },
    )
    return job.id


def execute(
    store: PipelineStore,
    job_id: str,
    functions: Mapping[str, Callable[..., Any]] | None = None,
    executor: Executor | None = None,
    tick: Callable[[], bool] | None = None,
) -> PipelineRun:
    """Run (or carry on) the run ``job_id``: every step not yet succeeded or skipped.

    The first step that raises fails the run with its error; steps already running
    finish and are recorded, no other step starts. ``tick`` (a worker's lease
    heartbeat) is called at least every ``TICK_SECONDS`` while steps run; when it
    answers ``False`` (the lease is lost) no further step starts and the run stops
    as failed, for the lease's new holder to resume.

    Raises:
        ConflictError: the run already succeeded.
    """
    return _Runner(store, job_id, dict(functions or {}), executor, tick).run()


def _depends(step: Mapping[str, Any]) -> list[str]:
    found = {
        target[0]
        for kind, target in references([step.get("args", {}), step.get("when")])
        if kind == "output"
    }
    return sorted(found)


def _params_only(value: Any, params: Mapping[str, Any]) -> Any:
    """``value`` with parameters filled in and step outputs left as references."""
    if isinstance(value, dict):
        if "$param" in value:
            return params[value["$param"]]
        return {k: _params_only(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_params_only(v, params) for v in value]
    return value


class _Runner:
    def __init__(
        self,
        store: PipelineStore,
        job_id: str,
        functions: dict[str, Callable[..., Any]],
        executor: Executor | None,
        tick: Callable[[], bool] | None = None,
    ) -> None:
        self.store = store
        self.workspace: Workspace = store.workspace
        self.jobs = self.workspace.jobs
        job = self.jobs.get(job_id)
        if job.status == JobStatus.SUCCEEDED:
            raise ConflictError(f"pipeline run {job.id} already succeeded: nothing to run")
        self.job_id = job.id
        self.definition: dict[str, Any] = job.params["definition"]
        self.params: dict[str, Any] = job.params["params"]
        self.states: dict[str, dict[str, Any]] = job.params["steps"]
        self.steps = {step["name"]: step for step in self.definition["steps"]}
        self.order = validate(self.definition)
        self.functions = functions
        self.executor = executor
        self.tick = tick
        self.own_executor: Executor | None = None
        self.in_flight: dict[Future[Any], str] = {}
        self.failure: str | None = None
        self.to_remember: list[tuple[str, str, dict[str, Any]]] = []

    # -- the loop --------------------------------------------------------------

    def run(self) -> PipelineRun:
        for state in self.states.values():  # a resumed run redoes what did not finish
            if state["status"] not in ("succeeded", "skipped"):
                state.update(new_step_state(state["kind"], state["depends"]))
        self.jobs.start(self.job_id)
        self._save()
        threads = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="pipeline-step")
        try:
            self._schedule(threads)
        finally:
            threads.shutdown(wait=True, cancel_futures=True)
            if self.own_executor is not None:
                self.own_executor.shutdown(cancel_pending=True)
        if self.failure is not None:
            job = self.jobs.finish(self.job_id, JobStatus.FAILED, error=self.failure)
        else:
            job = self.jobs.finish(self.job_id, JobStatus.SUCCEEDED)
        return PipelineRun.from_job(job)

    def _schedule(self, threads: ThreadPoolExecutor) -> None:
        # Ready steps start before the records of the steps that made them ready
        # are written, so the writes overlap the next steps' work instead of
        # delaying it; they are written before waiting for anything else.
        while True:
            while self.failure is None and self._start_ready(threads):
                pass
            self._flush()
            if not self.in_flight:
                return
            timeout = TICK_SECONDS if self.tick is not None else None
            done, _ = wait(self.in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
            if self.tick is not None and not self.tick() and self.failure is None:
                self.failure = "the worker running it lost its lease; the next holder resumes it"
            for future in done:
                self._finish(self.in_flight.pop(future), future, threads)

    def _start_ready(self, threads: ThreadPoolExecutor) -> bool:
        """Start every step whose inputs are ready; whether any step changed state."""
        changed = False
        for name in self.order:
            state = self.states[name]
            if state["status"] != "pending":
                continue
            statuses = [self.states[d]["status"] for d in state["depends"]]
            if not all(s in ("succeeded", "skipped") for s in statuses):
                continue
            changed = True
            try:
                self._start(name, threads)
            except Exception as exc:  # a bad input of this step fails the run here
                self._fail(name, exc, time.time())
            if self.failure is not None:
                break
        return changed

    # -- one step --------------------------------------------------------------

    def _start(self, name: str, threads: ThreadPoolExecutor) -> None:
        step, state = self.steps[name], self.states[name]
        skipped = [d for d in state["depends"] if self.states[d]["status"] == "skipped"]
        if skipped:
            self._skip(name, f"its input step {skipped[0]} was skipped")
            return
        outputs = {n: s["outputs"] for n, s in self.states.items() if s["outputs"] is not None}
        when = step.get("when")
        if when is not None and not resolve(when, outputs, self.params):
            self._skip(name, "its condition is false")
            return
        args = resolve(step.get("args", {}), outputs, self.params)
        kind = step["kind"]
        fn = self._function(name, args) if kind == "function" else None
        parts = self._key_parts(step, args, outputs, fn)
        state["parts"], state["key"] = parts, key_of(parts)
        reason = uncacheable_reason(kind, args)
        if reason is None and not step.get("cache", True):
            reason = "caching is off for this step"
        if reason is not None:
            state["cache"], state["reason"] = "off", reason
        else:
            cached = self.store.cached(state["key"], step.get("cache_expires"))
            if cached is not None:
                now = time.time()
                state.update(status="succeeded", cache="hit", outputs=cached)
                state.update(started_at=now, finished_at=now)
                return
            state["cache"] = "miss"
        state["status"] = "running"
        state["started_at"] = time.time()
        state["attempts"] = 1
        self.in_flight[self._submit(kind, args, fn, threads, 0.0)] = name

    def _function(self, name: str, args: dict[str, Any]) -> Callable[..., Any]:
        if name in self.functions:
            return self.functions[name]
        if args.get("function") is None:
            raise InvalidInputError(
                f"step {name}: its function cannot be imported by name; run the pipeline "
                "from the Python object that holds it"
            )
        return import_function(args["function"])

    def _key_parts(
        self,
        step: Mapping[str, Any],
        args: dict[str, Any],
        outputs: Mapping[str, Any],
        fn: Callable[..., Any] | None,
    ) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        for kind, target in references(step.get("args", {})):
            if kind == "output":
                label = ".".join(target)
                inputs[label] = resolve({"$output": target}, outputs, self.params)
        if step["kind"] == "ingest" and args.get("path") is not None:
            inputs["file"] = {"path": str(args["path"]), "sha256": file_digest(str(args["path"]))}
        for name, value in named_inputs(self.workspace, step["kind"], args).items():
            inputs[name] = value
        return {
            "kind": step["kind"],
            "code": code_version(step["kind"], fn),
            "params": _params_only(step.get("args", {}), self.params),
            "inputs": inputs,
        }

    def _submit(
        self,
        kind: str,
        args: dict[str, Any],
        fn: Callable[..., Any] | None,
        threads: ThreadPoolExecutor,
        delay: float,
    ) -> Future[Any]:
        if kind != "function" or fn is None:
            return threads.submit(_timed_builtin, self.workspace, kind, args, delay)
        inputs, kwargs = list(args.get("inputs", [])), dict(args.get("kwargs", {}))
        if args.get("function") is not None:  # importable: it may run in another process
            return self._executor().submit(call_function, args["function"], inputs, kwargs, delay)
        return threads.submit(call_function, fn, inputs, kwargs, delay)

    def _executor(self) -> Executor:
        if self.executor is None:
            from modelyard.execution import executor_from_settings

            self.own_executor = self.executor = executor_from_settings(self.workspace.settings)
        return self.executor

    def _finish(self, name: str, future: Future[Any], threads: ThreadPoolExecutor) -> None:
        state = self.states[name]
        try:
            value, started, finished = future.result()
        except Exception as exc:
            step = self.steps[name]
            attempts = state.get("attempts", 1)
            if attempts <= step.get("retries", 0) and self.failure is None:
                # the wait happens where the step runs, so other steps go on meanwhile
                delay = step.get("backoff", 1.0) * 2 ** (attempts - 1)
                state["attempts"] = attempts + 1
                state["error"] = f"attempt {attempts}: {type(exc).__name__}: {exc}"
                outputs = {n: s["outputs"] for n, s in self.states.items() if s["outputs"]}
                args = resolve(step.get("args", {}), outputs, self.params)
                fn = self._function(name, args) if step["kind"] == "function" else None
                self.in_flight[self._submit(step["kind"], args, fn, threads, delay)] = name
                return
            self._fail(name, exc, time.time())
            return
        if state["kind"] == "function":
            outputs = {"value": value, **value} if isinstance(value, dict) else {"value": value}
        else:
            outputs = value
        state.update(status="succeeded", outputs=outputs, finished_at=finished, error=None)
        state["started_at"] = started
        if state["cache"] == "miss":
            self.to_remember.append((state["key"], name, outputs))

    def _fail(self, name: str, exc: BaseException, when: float) -> None:
        state = self.states[name]
        message = f"{type(exc).__name__}: {exc}"
        state.update(status="failed", error=message, finished_at=when)
        if self.failure is None:
            self.failure = f"step {name} failed: {message}"

    def _skip(self, name: str, reason: str) -> None:
        now = time.time()
        self.states[name].update(status="skipped", reason=reason, started_at=now, finished_at=now)

    def _flush(self) -> None:
        """Write the cache entries of finished steps, then every step's state."""
        for key, name, outputs in self.to_remember:
            self.store.remember(key, self.definition["name"], name, outputs, self.job_id)
        self.to_remember = []
        self._save()

    def _save(self) -> None:
        self.jobs.update_params(self.job_id, steps=self.states)


def _timed_builtin(
    workspace: Workspace, kind: str, args: dict[str, Any], delay: float
) -> tuple[dict[str, Any], float, float]:
    time.sleep(delay)  # a retry's backoff
    started = time.time()
    outputs = run_builtin(workspace, kind, args)
    return outputs, started, time.time()
