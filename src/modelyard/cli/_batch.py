"""``modelyard batch``: predict, resume, list, show, cancel batch-transform jobs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelyard.cli._context import state
from modelyard.cli._render import console, err_console, print_json, table

if TYPE_CHECKING:
    from modelyard.batch import BatchResult
    from modelyard.jobs import Job

__all__ = ["app"]

app = typer.Typer(
    help="Batch transform: score files with a registered model.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ExecutorOption = Annotated[
    str | None,
    typer.Option("--executor", help="local or ray (default: the workspace setting)."),
]


@app.command("predict")
def predict(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", "-m", help="NAME, NAME:VERSION or NAME:ALIAS.")],
    inputs: Annotated[
        list[str],
        typer.Option("--input", "-i", help="A file, folder or glob; local or fsspec URL."),
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="Output folder (new or empty).")],
    keep: Annotated[
        str | None,
        typer.Option(
            help="Input columns to copy beside predictions, comma-separated (default: all)."
        ),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    max_errors: Annotated[
        str | None,
        typer.Option(help="Rejected rows tolerated: a count (100) or a share (2%)."),
    ] = None,
    executor: ExecutorOption = None,
    capture: Annotated[
        bool, typer.Option("--capture", help="Record inputs and outputs for monitoring.")
    ] = False,
    flavor: Annotated[
        str,
        typer.Option(
            help="native (XGBoost/LightGBM's own predictor, fastest in bulk), onnx or "
            "pipeline; a model without it uses the first of onnx, native, pipeline."
        ),
    ] = "native",
    partition_rows: Annotated[
        int, typer.Option(min=1, help="Target rows per Parquet partition.")
    ] = 100_000,
    partition_mb: Annotated[
        float, typer.Option(min=0.001, help="Target megabytes per CSV / JSON-lines partition.")
    ] = 64.0,
    json_output: JsonOption = False,
) -> None:
    """Score every row of the input files; print the job id, then progress.

    Exits 12 when the job was cancelled (by `batch cancel`) before it finished.
    """
    from modelyard.batch import batch_predict

    columns = [c.strip() for c in keep.split(",") if c.strip()] if keep is not None else None
    with _progress(enabled=not json_output) as (planned, update):
        result = batch_predict(
            state(ctx).workspace(),
            model,
            inputs if len(inputs) > 1 else inputs[0],
            output,
            keep=columns,
            output_format=output_format,
            max_errors=max_errors,
            capture=capture,
            executor=executor,
            flavor=flavor,
            partition_rows=partition_rows,
            partition_bytes=int(partition_mb * (1 << 20)),
            planned=planned,
            progress=update,
        )
    _render(result, json_output)


@app.command("resume")
def resume(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="Job id (or a unique prefix).")],
    executor: ExecutorOption = None,
    json_output: JsonOption = False,
) -> None:
    """Finish a killed, failed or cancelled job: only uncommitted partitions run.

    Exits 12 when the job was cancelled again before it finished.
    """
    from modelyard.batch import resume_batch

    with _progress(enabled=not json_output, resumed=True) as (planned, update):
        result = resume_batch(
            state(ctx).workspace(), job_id, executor=executor, planned=planned, progress=update
        )
    _render(result, json_output)


CANCELLED_EXIT = 12


def _render(result: BatchResult, json_output: bool) -> None:
    """The job's outcome; a job that did not finish (cancelled) exits non-zero."""
    from modelyard.jobs import JobStatus

    if json_output:
        print_json({"job": result.job.to_dict(), "manifest": result.manifest})
    else:
        _print_result(result)
    if result.job.status is not JobStatus.SUCCEEDED:
        if not json_output:
            err_console.print(
                f"error: batch job {result.job.id} {result.job.status.value} before it "
                f"finished; `modelyard batch resume {result.job.id}` finishes it"
            )
        raise typer.Exit(code=CANCELLED_EXIT)


@contextmanager
def _progress(
    *, enabled: bool, resumed: bool = False
) -> Iterator[tuple[Callable[[Job], None], Callable[[Job], None]]]:
    """``(planned, update)``: the job's id printed once it is planned, then a Rich
    progress bar over partitions, with rows, rows/s and time left."""
    if not enabled:
        yield (lambda _job: None), (lambda _job: None)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("[bold]scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("partitions  {task.fields[rows]} rows  {task.fields[speed]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    task = bar.add_task("scoring", total=None, rows="0", speed="")

    def planned(job: Job) -> None:
        if resumed:
            console.print(
                f"job [bold]{job.id}[/]: {job.partitions_done} of {job.partitions_total} "
                "partitions already committed"
            )
        else:
            console.print(f"job [bold]{job.id}[/]")
        sys.stdout.flush()
        bar.update(task, total=job.partitions_total)
        bar.start()

    def update(current: Job) -> None:
        total = f"/{current.rows_total:,}" if current.rows_total else ""
        speed = f"{current.rows_per_second:,.0f} rows/s" if current.rows_per_second else ""
        bar.update(
            task,
            completed=current.partitions_done,
            rows=f"{current.rows_done:,}{total}",
            speed=speed,
        )

    try:
        yield planned, update
    finally:
        bar.stop()


def _print_result(result: BatchResult) -> None:
    job = result.job
    if result.manifest is None:
        console.print(f"job {job.id} {job.status.value}: {job.error or ''}".rstrip(": "))
        return
    manifest = result.manifest
    rows: list[list[Any]] = [
        ["job", job.id],
        ["status", _status(job)],
        ["model", f"{manifest['model_version']} ({manifest['flavor']} flavor)"],
        ["rows in", manifest["rows_in"]],
        ["rows out", manifest["rows_out"]],
        ["rows rejected", manifest["rows_rejected"]],
        ["rows/s (this run)", f"{job.rows_per_second or 0:,.0f}"],
        ["parts", len(manifest["parts"])],
        ["output", job.output],
    ]
    if manifest["errors"]:
        rows.append(["rejected rows in", f"{job.output}/_errors/"])
    console.print(table("Batch transform", ["", ""], rows))


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only jobs with this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many jobs.")] = 50,
    json_output: JsonOption = False,
) -> None:
    """List batch jobs, newest first."""
    from modelyard.batch import BATCH_KIND
    from modelyard.errors import InvalidInputError
    from modelyard.jobs import JobStatus

    try:
        wanted = JobStatus(status) if status is not None else None
    except ValueError:
        choices = ", ".join(s.value for s in JobStatus)
        raise InvalidInputError(f"unknown status {status!r}: use one of {choices}") from None
    jobs = state(ctx).workspace().jobs.list_jobs(BATCH_KIND, wanted, limit)
    if json_output:
        print_json([job.to_dict() for job in jobs])
        return
    rows = [
        [
            job.id[:12],
            _status(job),
            job.params.get("model_version"),
            f"{job.partitions_done}/{job.partitions_total}",
            job.rows_done,
            job.rows_rejected,
            job.created_at,
            job.output,
        ]
        for job in jobs
    ]
    console.print(
        table(
            "Batch jobs",
            ["job", "status", "model", "partitions", "rows", "rejected", "created", "output"],
            rows,
        )
    )


@app.command("show")
def show(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="Job id (or a unique prefix).")],
    json_output: JsonOption = False,
) -> None:
    """Show a job: status, progress, errors, output and its partitions."""
    jobs = state(ctx).workspace().jobs
    job = jobs.get(job_id)
    partitions = jobs.partitions(job.id)
    if json_output:
        data = job.to_dict()
        data["partitions"] = [
            {
                "key": p.key,
                "source": p.spec.get("file"),
                "committed": p.committed,
                "rows_in": p.rows_in,
                "rows_out": p.rows_out,
                "rows_rejected": p.rows_rejected,
                "output": p.output,
                "checksum": p.checksum,
            }
            for p in partitions
        ]
        print_json(data)
        return
    rows: list[list[Any]] = [
        ["job", job.id],
        ["status", _status(job)],
        ["model", job.params.get("model_version")],
        ["inputs", job.params.get("inputs")],
        ["output", job.output],
        ["partitions", f"{job.partitions_done} of {job.partitions_total} committed"],
        ["rows done", job.rows_done],
        ["rows total", job.rows_total],
        ["rows rejected", job.rows_rejected],
        ["max errors", job.params.get("max_errors")],
        ["rows/s", f"{job.rows_per_second:,.0f}" if job.rows_per_second else None],
        ["started", job.started_at],
        ["finished", job.finished_at],
        ["owner", job.owner],
        ["error", job.error],
    ]
    console.print(table("Batch job", ["", ""], rows))


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="Job id (or a unique prefix).")],
    json_output: JsonOption = False,
) -> None:
    """Cancel a job: a running job stops after the partitions in flight."""
    job = state(ctx).workspace().jobs.cancel(job_id)
    if json_output:
        print_json(job.to_dict())
        return
    console.print(
        f"job {job.id} cancelled ({job.partitions_done} of {job.partitions_total} "
        "partitions committed; `batch resume` finishes it)"
    )


def _status(job: Job) -> str:
    return f"{job.status.value} (process gone)" if job.process_gone else job.status.value
