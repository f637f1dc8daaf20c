"""``modelyard monitor`` and ``modelyard labels``: watch endpoints' captured traffic."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelyard.cli._context import state
from modelyard.cli._links import print_page_link
from modelyard.cli._render import console, print_json, print_table

__all__ = ["app", "labels_app", "register"]

app = typer.Typer(
    help="Monitors: drift, data quality and model quality of an endpoint's traffic.",
    no_args_is_help=True,
)
labels_app = typer.Typer(help="Ground truth that arrives after the predictions.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("create")
def create(
    ctx: typer.Context,
    endpoint: Annotated[str, typer.Argument(help="The endpoint to watch.")],
    name: Annotated[str | None, typer.Option(help="Monitor name (default: endpoint).")] = None,
    every: Annotated[str, typer.Option(help="Schedule for the worker: 30m, 1h, 1d.")] = "1h",
    drift: Annotated[
        list[str] | None, typer.Option(help="Drift rule, e.g. 'psi>0.2' (repeatable).")
    ] = None,
    quality: Annotated[
        list[str] | None, typer.Option(help="Quality rule, e.g. 'roc_auc<0.75' (repeatable).")
    ] = None,
    alert: Annotated[
        list[str] | None, typer.Option(help="'log' or 'webhook:URL' (repeatable).")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Model whose baseline is used (default: the endpoint's).")
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(help="Folder with SageMaker's statistics.json and constraints.json."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Create a monitor of ENDPOINT against its model's training statistics."""
    monitors = state(ctx).workspace().monitors
    monitor = monitors.create(
        endpoint,
        name=name,
        every=every,
        drift=drift,
        quality=quality,
        alerts=alert,
        model=model,
        baseline=baseline,
    )
    if json_output:
        print_json(monitor.to_dict())
        return
    console.print(
        f"monitor {monitor.name} watches {monitor.endpoint} "
        f"(baseline {monitor.spec['model']}, drift {', '.join(monitor.spec['drift'])})",
        markup=False,
        soft_wrap=True,
    )


@app.command("run")
def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Monitor name.")],
    include_current: Annotated[
        bool, typer.Option("--include-current", help="Check the hour still being written too.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Check the windows of captured traffic not checked yet."""
    outcome = state(ctx).workspace().monitors.run(name, include_current=include_current)
    if json_output:
        print_json(outcome.to_dict())
        return
    console.print(outcome.message, markup=False, soft_wrap=True)
    for alert in outcome.alerts:
        console.print(f"  {alert['status']}: {alert['description']}", markup=False, soft_wrap=True)


@app.command("list")
def list_monitors(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Every monitor."""
    monitors = state(ctx).workspace().monitors.list()
    if json_output:
        print_json([m.to_dict() for m in monitors])
        return
    rows = [
        [m.name, m.endpoint, m.spec["model"], len(m.open_episodes), m.last_run_at] for m in monitors
    ]
    print_table("Monitors", ["monitor", "endpoint", "baseline", "open", "last run"], rows)


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Monitor name.")],
    json_output: JsonOption = False,
) -> None:
    """Open violations, drift per feature over time, and quality per variant."""
    summary = state(ctx).workspace().monitors.summary(name)
    if json_output:
        print_json(summary)
        return
    monitor = summary["monitor"]
    console.print(
        f"monitor {monitor['name']} on {monitor['endpoint']}: "
        f"{len(summary['windows'])} window(s) checked",
        markup=False,
        soft_wrap=True,
    )
    episodes = [[k, v["since"], v["description"]] for k, v in monitor["open_episodes"].items()]
    print_table("Open violations", ["key", "since", "description"], episodes)
    drift_rows = [
        [w["window"], w["rows"], w["violations"], w["top_feature"], w["top_psi"]]
        for w in summary["windows"]
    ]
    print_table("Windows", ["window", "rows", "violations", "top drift", "psi"], drift_rows)
    quality_rows = [
        [
            q["window"],
            q["variant"],
            q["rows"],
            (q.get("realised") or {}).get("labelled"),
            (q.get("realised") or {}).get("roc_auc"),
            (q.get("estimated") or {}).get("roc_auc"),
            (q.get("registered") or {}).get("roc_auc"),
        ]
        for q in summary["quality"]
    ]
    print_table(
        "Quality",
        ["window", "variant", "rows", "labelled", "roc_auc", "estimated", "registered"],
        quality_rows,
    )
    if summary["comparison"]:
        console.print(summary["comparison"]["verdict"], markup=False, soft_wrap=True)
    print_page_link(state(ctx).workspace(), "monitors", monitor["name"])


@app.command("history")
def history(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Monitor name.")],
    json_output: JsonOption = False,
) -> None:
    """Every checked window with its violations."""
    windows = state(ctx).workspace().monitors.history(name)
    if json_output:
        print_json(windows)
        return
    rows = [
        [w["window"], w["rows"], w["failed_requests"], "; ".join(v["key"] for v in w["violations"])]
        for w in windows
    ]
    print_table(f"History of {name}", ["window", "rows", "failed", "violations"], rows)


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Monitor name.")],
    json_output: JsonOption = False,
) -> None:
    """Delete a monitor and its checked windows (traffic and labels stay)."""
    state(ctx).workspace().monitors.delete(name)
    if json_output:
        print_json({"deleted": name})
        return
    console.print(f"monitor {name} deleted", markup=False, soft_wrap=True)


@app.command("export")
def export(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Monitor name.")],
    directory: Annotated[Path, typer.Argument(help="Folder to write into.")],
    json_output: JsonOption = False,
) -> None:
    """Write SageMaker Model Monitor's statistics, constraints and violations files."""
    written = state(ctx).workspace().monitors.export_sagemaker(name, directory)
    if json_output:
        print_json([str(p) for p in written])
        return
    for path in written:
        console.print(str(path), markup=False, soft_wrap=True)


@app.command("baseline")
def baseline(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="Dataset version (NAME or NAME:VERSION).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write into.")],
    split: Annotated[
        str | None, typer.Option(help="train, validation or test (default: every row).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Write a dataset version's statistics and constraints (SageMaker's files) to edit,
    then use with 'monitor create ENDPOINT --baseline FOLDER'."""
    written = state(ctx).workspace().monitors.suggest_baseline(dataset, output, split=split)
    if json_output:
        print_json([str(p) for p in written])
        return
    for path in written:
        console.print(str(path), markup=False, soft_wrap=True)


@app.command("report")
def report(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Monitor name.")],
    output: Annotated[Path | None, typer.Option(help="Folder for report.html and .json.")] = None,
    open_page: Annotated[bool, typer.Option("--open", help="Open it in a browser.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Write the HTML report (and its JSON) and print its path."""
    page = state(ctx).workspace().monitors.write_report(name, output)
    if json_output:
        print_json({"html": str(page), "json": str(page.with_suffix(".json"))})
    else:
        console.print(str(page), markup=False, soft_wrap=True)
    if open_page:
        import webbrowser

        webbrowser.open(page.as_uri())


@app.command("import-capture")
def import_capture(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="SageMaker data-capture .jsonl files.")],
    endpoint: Annotated[str, typer.Option("--endpoint", "-e", help="The endpoint they feed.")],
    json_output: JsonOption = False,
) -> None:
    """Bring SageMaker data-capture files into an endpoint's captured traffic."""
    count = state(ctx).workspace().monitors.import_sagemaker_capture(list(files), endpoint)
    if json_output:
        print_json({"endpoint": endpoint, "records": count})
        return
    console.print(f"{count:,} captured invocations imported into {endpoint}", markup=False)


@labels_app.command("ingest")
def ingest(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV, Parquet or JSON lines (SageMaker too).")],
    endpoint: Annotated[str, typer.Option("--endpoint", "-e", help="The endpoint labelled.")],
    id_column: Annotated[
        str | None, typer.Option(help="Id column (default: inference_id).")
    ] = None,
    label_column: Annotated[str | None, typer.Option(help="Label column (default: label).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Join ground truth to captured requests by inference id."""
    result = (
        state(ctx)
        .workspace()
        .monitors.ingest_labels(file, endpoint, id_column=id_column, label_column=label_column)
    )
    if json_output:
        print_json(result.to_dict())
        return
    console.print(result.message, markup=False, soft_wrap=True)


def register(root: typer.Typer) -> None:
    """Add ``modelyard worker`` to the root app."""
    root.command("worker")(worker)


def worker(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run what is due once, then stop.")] = False,
    poll: Annotated[float, typer.Option(min=1.0, help="Seconds between schedule ticks.")] = 30.0,
    include_current: Annotated[
        bool, typer.Option("--include-current", help="Check the hour still being written too.")
    ] = False,
) -> None:
    """Run due monitors on their schedules; one worker per workspace holds the lease."""
    from modelyard.monitoring._worker import Worker

    runner = Worker(state(ctx).workspace())
    if not once:
        runner.serve(poll, include_current=include_current)
        return
    if not runner.acquire():
        console.print("another worker holds the lease: nothing run", markup=False)
        return
    for outcome in runner.run_once(include_current=include_current):
        console.print(f"{outcome.monitor}: {outcome.message}", markup=False, soft_wrap=True)
