"""Batch transform: plan a job, run its partitions on an executor, resume after a crash.

The driver (this module) plans partitions and records them with the job, submits
the ones not yet committed to an :class:`~modelyard.execution.Executor`, and
records each partition as its worker reports it done. A worker renames its part
file into place *before* the driver records it, so after any crash every
recorded partition has its file; a file without a record is redone (overwritten)
on resume. The manifest is written only when every partition is committed and
the error budget held.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelyard.batch._budget import ErrorBudget
from modelyard.batch._inputs import input_stamp, plan_partitions, resolve_inputs
from modelyard.batch._manifest import build_manifest, write_manifest
from modelyard.batch._partition import PartitionTask, score_partition
from modelyard.batch._scorer import ModelSource, output_columns
from modelyard.batch._workers import likely_library, start_executor
from modelyard.errors import ConflictError, InvalidInputError, ModelyardError
from modelyard.jobs import Job, JobStatus

if TYPE_CHECKING:
    from modelyard.execution import Executor
    from modelyard.workspace import Workspace

__all__ = [
    "BATCH_KIND",
    "BatchResult",
    "batch_predict",
    "plan_batch",
    "resume_batch",
    "run_batch",
]

BATCH_KIND = "batch"
OUTPUT_FORMATS = ("parquet", "csv")
OUTPUT_OWNER = "_job.json"  # the job an output folder belongs to (see _claim_output)
JobProgress = Callable[[Job], None]


@dataclass(frozen=True)
class BatchResult:
    """A batch job as it ended, and its manifest (``None`` unless it succeeded)."""

    job: Job
    manifest: dict[str, Any] | None


def plan_batch(
    workspace: Workspace,
    model_ref: str,
    inputs: str | list[str],
    output: str,
    *,
    keep: list[str] | None = None,
    output_format: str = "parquet",
    max_errors: str | int | None = None,
    capture: bool = False,
    executor: str | None = None,
    flavor: str = "native",
    partition_rows: int = 100_000,
    partition_bytes: int = 64 << 20,
    batch_rows: int = 65_536,
) -> Job:
    """Check everything a batch job needs, plan its partitions, record it ``pending``.

    Args:
        workspace: the workspace holding the model and the job.
        model_ref: ``name``, ``name:N`` or ``name:alias``.
        inputs: a file, folder or glob (or a list), local or any fsspec URL.
        output: the output folder (local or fsspec URL); must hold no earlier output.
        keep: input columns copied beside the predictions (default: all).
        output_format: ``parquet`` or ``csv``.
        max_errors: rejected rows tolerated: a count (``100``) or share (``"2%"``).
        capture: also record inputs and outputs as capture Parquet for monitoring.
        executor: ``local`` or ``ray`` (default: the workspace setting).
        flavor: ``native`` (XGBoost's or LightGBM's own predictor, about three
            times faster than ONNX Runtime on large batches), ``onnx`` (the ONNX
            graph) or ``pipeline`` (the fitted scikit-learn pipeline). Native and
            ONNX execute no pickle; a package without the flavor asked for uses
            the first of ONNX, native, pipeline that it has.
        partition_rows: target rows of a Parquet partition.
        partition_bytes: target bytes of a CSV / JSON-lines partition.
        batch_rows: rows per record batch (bounds each worker's memory: about
            50 MB at the default for the churn model; each batch costs a fixed
            few milliseconds of Python, 16,384-row batches had 6% more time
            beside the booster's predict).

    Raises:
        NotFoundError: no such model, or no input file.
        InvalidInputError: a bad format, glob, ``--keep`` column or option.
        ConflictError: the output folder already holds an output.
    """
    if output_format not in OUTPUT_FORMATS:
        raise InvalidInputError(
            f"unknown output format {output_format!r}: use parquet or csv",
            details={"format": output_format},
        )
    if flavor not in ("native", "onnx", "pipeline"):
        raise InvalidInputError(f"unknown flavor {flavor!r}: use native, onnx or pipeline")
    _check_executor(executor)
    if min(partition_rows, partition_bytes, batch_rows) < 1:
        raise InvalidInputError("partition and batch sizes must be positive")
    budget = ErrorBudget.parse(max_errors)
    version = workspace.models.get(model_ref)
    manifest = workspace.models.manifest(version)
    files = resolve_inputs(inputs)
    planned, columns = plan_partitions(files, partition_rows, partition_bytes)
    if keep is not None:
        _check_keep(keep, columns)
    _check_clashes(keep, columns, output_columns(manifest))
    output_url = _prepare_output(output)
    rows = [p.rows for p in planned]
    params = {
        "model": model_ref,
        "model_version": version.ref,
        "package_digest": version.package_digest,
        "package_cache": str(workspace.models.cache),
        "artifact_url": workspace.settings.resolved_artifact_url,
        "task": manifest.task,
        # the library a native-flavor job's workers load (imported as they start)
        "native_library": manifest.native.library if manifest.native else None,
        "inputs": [f.url for f in files],
        "input_stamps": {f.url: input_stamp(f.url) for f in files},
        "output_format": output_format,
        "keep": keep,
        "max_errors": str(budget),
        "max_errors_raw": None if max_errors is None else str(max_errors),
        "capture": None,
        "executor": executor,
        "prefer": flavor,
        "batch_rows": batch_rows,
    }
    job = workspace.jobs.create(
        BATCH_KIND,
        params,
        [(p.key, {**p.spec, "rows": p.rows}) for p in planned],
        output=output_url,
        rows_total=None if None in rows else sum(r or 0 for r in rows),
    )
    _claim_output(output_url, job.id)
    if capture:
        root = workspace.settings.state_dir / "capture"
        job = workspace.jobs.update_params(
            job.id, capture=str(root), capture_name=f"batch-{job.id[:12]}"
        )
    return job


def run_batch(
    workspace: Workspace,
    job_id: str,
    *,
    executor: Executor | None = None,
    progress: JobProgress | None = None,
) -> BatchResult:
    """Run (or carry on) a planned batch job until it succeeds, fails or is cancelled.

    Raises:
        NotFoundError: no such job.
        ConflictError: the job succeeded already, or another live process runs it.
        InvalidInputError: the error budget was exceeded, or an input is unreadable
            (the job is marked failed with the same message first).
    """
    jobs = workspace.jobs
    job = jobs.get(job_id)
    if job.kind != BATCH_KIND:
        raise InvalidInputError(f"job {job.id} is a {job.kind} job, not a batch job")
    if job.status is JobStatus.SUCCEEDED:
        raise ConflictError(f"job {job.id} already succeeded: nothing to resume")
    _check_not_running_elsewhere(job)
    params = job.params
    budget = ErrorBudget.parse(params.get("max_errors_raw"))
    owned = executor is None
    if executor is None:
        executor = start_executor(workspace.settings, params.get("executor"), warm_modules(params))
    job = jobs.start(job.id)
    started = time.perf_counter()
    rows_this_run = 0
    cancelled = False
    try:
        pending = jobs.partitions(job.id, committed=False)
        _check_inputs_unchanged(params, {p.spec["file"] for p in pending})
        _forget_missing_outputs(workspace, job)
        _drop_temporaries(job)
        pending = jobs.partitions(job.id, committed=False)
        job = jobs.get(job.id)
        if progress is not None:
            progress(job)
        source = ModelSource(
            ref=params["model_version"],
            digest=params["package_digest"],
            artifact_url=params["artifact_url"],
            cache_dir=params.get("package_cache") or str(workspace.models.cache),
            prefer=params.get("prefer", "native"),
        )
        tasks = [(_task(job, p.key, p.spec, source),) for p in pending]
        for _, result in executor.as_completed(score_partition, tasks):
            rows_this_run += result.rows_in
            elapsed = max(time.perf_counter() - started, 1e-9)
            job = jobs.commit_partition(
                job.id,
                result.key,
                rows_in=result.rows_in,
                rows_out=result.rows_out,
                rows_rejected=result.rows_rejected,
                output=result.output,
                checksum=result.checksum,
                details=result.details(),
                rows_per_second=rows_this_run / elapsed,
            )
            if progress is not None:
                progress(job)
            reason = budget.exceeded(job.rows_rejected, job.rows_done, job.rows_total, final=False)
            if reason is not None:
                raise InvalidInputError(f"batch job {job.id[:12]} failed: {reason}")
            if jobs.get(job.id).status is JobStatus.CANCELLED:
                cancelled = True
                return BatchResult(jobs.get(job.id), None)
        reason = budget.exceeded(job.rows_rejected, job.rows_done, job.rows_total, final=True)
        if reason is not None:
            raise InvalidInputError(f"batch job {job.id[:12]} failed: {reason}")
        seconds = time.perf_counter() - started
        manifest = build_manifest(job, jobs.partitions(job.id), seconds)
        assert job.output is not None
        write_manifest(job.output, manifest)
        final = jobs.finish(
            job.id, JobStatus.SUCCEEDED, rows_per_second=rows_this_run / max(seconds, 1e-9)
        )
        return BatchResult(final, manifest)
    except KeyboardInterrupt:
        jobs.finish(job.id, JobStatus.FAILED, error="interrupted: run `batch resume` to finish")
        raise
    except ModelyardError as exc:
        jobs.finish(job.id, JobStatus.FAILED, error=exc.message)
        raise
    except Exception as exc:
        jobs.finish(job.id, JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if owned:
            executor.shutdown(cancel_pending=True)
        if cancelled:  # the partitions in flight are done: another process may resume it
            jobs.release(job.id)


def batch_predict(
    workspace: Workspace,
    model_ref: str,
    inputs: str | list[str],
    output: str,
    *,
    keep: list[str] | None = None,
    output_format: str = "parquet",
    max_errors: str | int | None = None,
    capture: bool = False,
    executor: Executor | str | None = None,
    progress: JobProgress | None = None,
    planned: JobProgress | None = None,
    flavor: str = "native",
    partition_rows: int = 100_000,
    partition_bytes: int = 64 << 20,
) -> BatchResult:
    """Score every row of ``inputs`` with a registered model into ``output``.

    Starts the job's workers, then plans the job (:func:`plan_batch`) while they
    start, then runs it (:func:`run_batch`); if the process dies,
    :func:`resume_batch` finishes it. ``executor`` is an
    :class:`~modelyard.execution.Executor` to use (and leave running), or the
    name of one to start for this job (``local`` or ``ray``; default: the
    workspace's). ``planned`` is called once with the job as planned, before it
    runs (to show its id); ``progress`` after each committed partition.

    Returns:
        The job as it ended: succeeded (with its manifest), or cancelled.

    Raises:
        See :func:`plan_batch` and :func:`run_batch`.
    """
    name = executor if isinstance(executor, str) or executor is None else None
    _check_executor(name)
    started = None
    if executor is None or isinstance(executor, str):
        # the workers start first: their start-up runs beside the planning
        started = start_executor(workspace.settings, name, likely_library(flavor))
    try:
        job = plan_batch(
            workspace,
            model_ref,
            inputs,
            output,
            keep=keep,
            output_format=output_format,
            max_errors=max_errors,
            capture=capture,
            executor=name,
            flavor=flavor,
            partition_rows=partition_rows,
            partition_bytes=partition_bytes,
        )
        if planned is not None:
            planned(job)
        given = started if started is not None else executor
        assert given is None or not isinstance(given, str)
        return run_batch(workspace, job.id, executor=given, progress=progress)
    finally:
        if started is not None:
            started.shutdown(cancel_pending=True)


def resume_batch(
    workspace: Workspace,
    job_id: str,
    *,
    executor: Executor | str | None = None,
    progress: JobProgress | None = None,
    planned: JobProgress | None = None,
) -> BatchResult:
    """Finish a batch job that was killed, failed or cancelled: only uncommitted
    partitions run again (see :func:`run_batch`).

    Args:
        executor: an executor to use, or the name of one (``local`` or ``ray``) to
            run this and later resumes on, stored with the job.
        planned: called once with the job before it runs on.

    Raises:
        InvalidInputError: an unknown executor name (refused before it is stored).
        See :func:`run_batch` for the rest.
    """
    job = workspace.jobs.get(job_id)
    if isinstance(executor, str):
        _check_executor(executor)
        job = workspace.jobs.update_params(job.id, executor=executor)
    if planned is not None:
        planned(job)
    given = None if isinstance(executor, str) else executor
    return run_batch(workspace, job.id, executor=given, progress=progress)


def _check_executor(name: str | None) -> None:
    if name is not None and name not in ("local", "ray"):
        raise InvalidInputError(f"unknown executor {name!r}: use local or ray")


# -- helpers -----------------------------------------------------------------------


def warm_modules(params: dict[str, Any]) -> tuple[str, ...]:
    """The library a job's workers will load the model with, as planned (the native
    flavor's XGBoost or LightGBM), for them to import as they start."""
    library = params.get("native_library")
    if params.get("prefer", "native") != "native" or library not in ("xgboost", "lightgbm"):
        return ()
    return (str(library),)


def _task(job: Job, key: str, spec: dict[str, Any], source: ModelSource) -> PartitionTask:
    params = job.params
    assert job.output is not None
    return PartitionTask(
        job_id=job.id,
        key=key,
        spec=spec,
        model=source,
        output=job.output,
        output_format=params["output_format"],
        keep=params["keep"],
        batch_rows=params.get("batch_rows", 16_384),
        capture=params.get("capture"),
        capture_name=params.get("capture_name"),
    )


def _check_keep(keep: list[str], columns: dict[str, list[str]]) -> None:
    for url, names in columns.items():
        missing = [name for name in keep if name not in names]
        if missing:
            raise InvalidInputError(
                f"cannot keep column(s) {', '.join(missing)}: not in {url} "
                f"(columns: {', '.join(names)})",
                details={"columns": missing, "file": url},
            )


def _check_clashes(
    keep: list[str] | None, columns: dict[str, list[str]], outputs: list[str]
) -> None:
    """An input column kept under an output column's name would be silently replaced."""
    for url, names in columns.items():
        kept = names if keep is None else keep
        clashes = [name for name in kept if name in outputs]
        if clashes:
            hint = "leave them out of --keep" if keep is not None else "name the others in --keep"
            raise InvalidInputError(
                f"cannot keep column(s) {', '.join(clashes)} of {url}: the output writes "
                f"its own column(s) of that name; {hint}",
                details={"columns": clashes, "file": url},
            )


def _prepare_output(output: str) -> str:
    from fsspec.core import url_to_fs

    try:
        fs, root = url_to_fs(str(output))
    except (ValueError, ImportError) as exc:
        raise InvalidInputError(f"cannot write to {output}: {exc}") from exc
    if fs.exists(root):
        if not fs.isdir(root):
            raise InvalidInputError(f"output {output} is a file: give a folder")
        marker = f"{root.rstrip('/')}/{OUTPUT_OWNER}"
        if fs.exists(marker):
            owner = json.loads(fs.cat_file(marker))["job_id"]
            raise ConflictError(
                f"output folder {output} belongs to batch job {owner}: "
                f"`batch resume {owner}` finishes it, or give a new folder",
                details={"output": str(output), "job": owner},
            )
        if fs.ls(root):
            raise ConflictError(
                f"output folder {output} is not empty: give a new or empty folder",
                details={"output": str(output)},
            )
    fs.makedirs(root, exist_ok=True)
    url: str = fs.unstrip_protocol(root)
    return url


def _claim_output(output: str, job_id: str) -> None:
    """Mark the output folder as the job's before any part lands in it, so a second
    job given the same folder is refused even while the first has written nothing
    (their part files have the same names: they would overwrite each other)."""
    from fsspec.core import url_to_fs

    fs, root = url_to_fs(output)
    with fs.open(f"{root.rstrip('/')}/{OUTPUT_OWNER}", "w") as handle:
        handle.write(json.dumps({"job_id": job_id}))


def _forget_missing_outputs(workspace: Workspace, job: Job) -> None:
    """A committed partition whose file vanished is redone rather than trusted."""
    from fsspec.core import url_to_fs

    gone = []
    for partition in workspace.jobs.partitions(job.id, committed=True):
        if partition.output is None:
            continue
        fs, path = url_to_fs(partition.output)
        if not fs.exists(path):
            gone.append(partition.key)
    if gone:
        workspace.jobs.forget_partitions(job.id, gone)


def _check_inputs_unchanged(params: dict[str, Any], files: set[str]) -> None:
    """Refuse to carry on with input files changed since planning: their planned byte
    ranges and row groups no longer hold the same rows (some would be lost, some
    scored twice)."""
    stamps = params.get("input_stamps") or {}
    for url in sorted(files):
        if url not in stamps:
            continue
        try:
            now = input_stamp(url)
        except FileNotFoundError:
            now = None
        if now != stamps[url]:
            what = "was removed" if now is None else "changed"
            raise ConflictError(
                f"input {url} {what} since the job was planned: its rows cannot be "
                "resumed exactly once; start a new job",
                details={"file": url, "planned": stamps[url], "now": now},
            )


def _drop_temporaries(job: Job) -> None:
    """Remove the half-written files of partitions a killed run was writing.

    No other process runs the job (checked before), so every ``.tmp-*`` file in
    its output folder is left over: the partitions they belonged to are redone.
    """
    from fsspec.core import url_to_fs

    if job.output is None:
        return
    fs, root = url_to_fs(job.output)
    root = root.rstrip("/")
    for pattern in (f"{root}/.tmp-*", f"{root}/_errors/.tmp-*"):
        for path in fs.glob(pattern):
            fs.rm(path)


def _check_not_running_elsewhere(job: Job) -> None:
    # a cancelled job's process finishes the partitions in flight, then releases it
    if job.status not in (JobStatus.RUNNING, JobStatus.CANCELLED) or not job.owner:
        return
    host, _, pid_text = job.owner.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return  # cannot tell for another machine: trust the caller
    pid = int(pid_text)
    if pid == os.getpid():
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return  # its owner died (crash, kill -9): safe to take over
    except PermissionError:
        pass
    raise ConflictError(
        f"job {job.id} is running in process {pid}: cancel it or wait for it",
        details={"job": job.id, "owner": job.owner},
    )
