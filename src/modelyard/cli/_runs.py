"""``modelyard runs``: list, show and compare experiment runs; gc marks killed ones failed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from modelyard.cli._context import YesOption, confirm, state
from modelyard.cli._links import print_page_link
from modelyard.cli._render import WideOption, console, format_value, print_json, print_table, table

if TYPE_CHECKING:
    from modelyard.tracking import RunInfo

__all__ = ["app", "headline_metrics"]

# The metrics a reader looks for first, in this order; the trivial baselines' last.
_HEADLINE = ("roc_auc", "f1", "accuracy", "r2", "rmse", "mae", "log_loss")


def headline_metrics(keys: set[str]) -> list[str]:
    """Metric columns for a listing: the usual headline metrics first, then the
    rest by name, the trivial baselines' (``baseline_*``) last."""
    first = [k for k in _HEADLINE if k in keys]
    rest = sorted(keys - set(first), key=lambda k: (k.startswith("baseline_"), k))
    return first + rest


app = typer.Typer(help="Experiment runs.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    experiment: Annotated[str | None, typer.Option("--experiment", "-e")] = None,
    status: Annotated[str | None, typer.Option(help="running, finished, failed, killed.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    wide: WideOption = False,
) -> None:
    """List runs, newest first."""
    from modelyard.errors import InvalidInputError
    from modelyard.tracking import RunStatus

    try:
        wanted = RunStatus(status) if status else None
    except ValueError:
        raise InvalidInputError(
            f"unknown status {status!r}: use running, finished, failed or killed"
        ) from None
    runs = state(ctx).workspace().runs.list_runs(experiment, wanted, limit)
    if json_output:
        print_json([r.to_dict() for r in runs])
        return
    metric_keys = headline_metrics({k for r in runs for k in r.metrics})
    rows: list[list[Any]] = [
        [r.id[:8], r.experiment, r.name, _status(r), r.start_time, r.duration_seconds]
        + [r.metrics.get(k) for k in metric_keys]
        for r in runs
    ]
    columns = ["id", "experiment", "name", "status", "started", "seconds", *metric_keys]
    # dropped from the end to fit the terminal: the headline metric stays longest
    optional = [*metric_keys[:1], "started", "seconds", *metric_keys[1:]]
    print_table("Runs", columns, rows, optional=optional, wide=wide)


@app.command("show")
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id or a unique prefix.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a run: status, params, metrics, tags, artifacts, inputs and environment."""
    workspace = state(ctx).workspace()
    run = workspace.runs.get(run_id)
    if json_output:
        print_json(run.to_dict())
        return
    console.print(
        f"[bold]{run.name}[/]  id {run.id}  experiment {run.experiment}  "
        f"status [bold]{_status(run)}[/]  {format_value(run.duration_seconds)} s"
    )
    if run.error:
        console.print(f"[red]error: {run.error}[/]")
    if run.params:
        console.print(table("Params", ["param", "value"], [[k, v] for k, v in run.params.items()]))
    if run.metrics:
        rows: list[list[Any]] = [
            [k, v, run.metric_counts.get(k, 1)] for k, v in sorted(run.metrics.items())
        ]
        console.print(table("Metrics (last value)", ["metric", "value", "values logged"], rows))
    if run.tags:
        console.print(table("Tags", ["tag", "value"], [[k, v] for k, v in run.tags.items()]))
    if run.inputs:
        console.print(
            table(
                "Inputs",
                ["kind", "ref", "details"],
                [
                    [
                        i.get("kind"),
                        i.get("ref"),
                        {k: v for k, v in i.items() if k not in ("kind", "ref")},
                    ]
                    for i in run.inputs
                ],
            )
        )
    if run.artifacts:
        console.print(
            table(
                "Artifacts",
                ["name", "bytes", "sha256"],
                [[a.name, a.size_bytes, a.digest[:16]] for a in run.artifacts],
            )
        )
    env = run.environment
    git = env.get("git") or {}
    packages = ", ".join(f"{k} {v}" for k, v in env.get("packages", {}).items())
    console.print(
        f"environment: Python {env.get('python', '?')}; {packages}"
        + (
            f"; git {git.get('commit', '')[:10]}{' (dirty)' if git.get('dirty') else ''}"
            if git
            else ""
        )
    )
    print_page_link(workspace, "runs", run.id)


@app.command("compare")
def compare(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="First run.")],
    b: Annotated[str, typer.Argument(help="Second run.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare two runs' params and metrics."""
    result = state(ctx).workspace().runs.compare(a, b)
    if json_output:
        print_json(result.to_dict())
        return
    left, right = result.a.id[:8], result.b.id[:8]
    params: list[list[Any]] = [[k, x, y, "" if x == y else "≠"] for k, x, y in result.params]
    console.print(table("Params", ["param", left, right, ""], params))
    metrics: list[list[Any]] = [
        [k, x, y, (y - x) if x is not None and y is not None else None]
        for k, x, y in result.metrics
    ]
    console.print(table("Metrics", ["metric", left, right, "difference"], metrics))


@app.command("gc")
def gc(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Mark failed the runs still "running" whose process ended (killed) on this host."""
    marked = state(ctx).workspace().runs.collect_stale()
    if json_output:
        print_json(marked)
        return
    console.print(f"Marked {len(marked)} stale run(s) failed" + "".join(f"\n  {r}" for r in marked))


@app.command("artifacts")
def artifacts(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id or a unique prefix of it.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Download them into this directory."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a run's artifacts, or download them (each verified by its hash) with --output."""
    runs = state(ctx).workspace().runs
    if output is not None:
        paths = runs.download_artifacts(run_id, output)
        if json_output:
            print_json([str(p) for p in paths])
        else:
            console.print(
                Text(f"downloaded {len(paths)} artifact(s)" + "".join(f"\n  {p}" for p in paths))
            )
        return
    found = runs.get(run_id).artifacts
    if json_output:
        print_json(
            [{"name": a.name, "size_bytes": a.size_bytes, "digest": a.digest} for a in found]
        )
        return
    print_table(
        f"Artifacts of run {run_id}",
        ["name", "bytes", "sha256"],
        [[a.name, f"{a.size_bytes:,}", a.digest] for a in found],
        optional=["sha256"],
    )


@app.command("delete")
def delete(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id or a unique prefix of it.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Delete even if a model version came from it or it runs."),
    ] = False,
    yes: YesOption = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Delete a run's record (its artifact files stay: they may be shared)."""
    confirm(f"delete run {run_id} with its params, metrics and tags?", yes)
    deleted = state(ctx).workspace().runs.delete(run_id, force=force)
    if json_output:
        print_json({"deleted": deleted})
    else:
        console.print(f"deleted run {deleted}")


def _status(run: RunInfo) -> str:
    return f"{run.status.value} (process gone)" if run.process_gone else run.status.value
