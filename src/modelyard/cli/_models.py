"""``modelyard model``: list, show, diff, approve, reject, alias, history, predict, report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text

from modelyard.cli._context import YesOption, confirm, state
from modelyard.cli._links import print_page_link
from modelyard.cli._render import WideOption, console, format_value, print_json, print_table, table
from modelyard.cli._runs import headline_metrics

if TYPE_CHECKING:
    from modelyard.registry import ModelVersion

__all__ = ["app"]

app = typer.Typer(help="Registered models.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this model's versions.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    wide: WideOption = False,
) -> None:
    """List model versions, newest first."""
    versions = state(ctx).workspace().models.list_versions(name)
    if json_output:
        print_json([v.to_dict() for v in versions])
        return
    headline = headline_metrics({k for v in versions for k in v.metrics})
    rows: list[list[Any]] = [
        [
            v.ref,
            v.algorithm,
            v.task,
            v.status.value,
            ", ".join(v.aliases),
            "/".join(v.flavors),
            v.lineage.get("dataset"),
        ]
        + [v.metrics.get(k) for k in headline]
        for v in versions
    ]
    print_table(
        "Models",
        ["model", "algorithm", "task", "status", "aliases", "flavors", "dataset", *headline],
        rows,
        optional=(*headline[:1], "dataset", "flavors", *headline[1:]),
        wide=wide,
    )


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME:ALIAS.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a version: status, metrics, params and lineage back to the dataset."""
    workspace = state(ctx).workspace()
    version = workspace.models.get(ref)
    if json_output:
        print_json(version.to_dict())
        return
    _print_version(version)
    print_page_link(workspace, "models", version.name, version.version)


def _print_version(version: ModelVersion) -> None:
    console.print(
        f"[bold]{version.ref}[/]  {version.algorithm} ({version.task})  "
        f"status [bold]{version.status.value}[/]"
        + (f" by {version.status_by}" if version.status_by else "")
        + (f": {version.status_reason}" if version.status_reason else "")
    )
    console.print(
        f"aliases: {', '.join(version.aliases) or '-'}   flavors: {', '.join(version.flavors)}"
    )
    lineage = version.lineage
    split = lineage.get("split") or {}
    console.print(
        "lineage: dataset [bold]{}[/] (fingerprint {}), "
        "split train/validation/test {}/{}/{} seed {}, "
        "target {}, run {}".format(
            lineage.get("dataset"),
            str(lineage.get("dataset_fingerprint", ""))[:12],
            split.get("train"),
            split.get("validation"),
            split.get("test"),
            split.get("seed"),
            lineage.get("target"),
            str(version.run_id or "")[:8],
        )
    )
    for number, step in enumerate(lineage.get("recipe") or [], 1):
        console.print(Text(f"fitted recipe step {number}: {step}"), soft_wrap=True)
    git = (lineage.get("environment") or {}).get("git") or {}
    if git:
        console.print(
            f"code: git {git.get('commit', '')[:10]}{' (dirty)' if git.get('dirty') else ''}"
        )
    console.print(
        table(
            "Metrics (test split)",
            ["metric", "value"],
            [[k, v] for k, v in version.metrics.items()],
        )
    )
    console.print(table("Params", ["param", "value"], [[k, v] for k, v in version.params.items()]))


@app.command("diff")
def diff(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="First version.")],
    b: Annotated[str, typer.Argument(help="Second version.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare two versions' metrics and params."""
    from modelyard.registry import diff_versions

    models = state(ctx).workspace().models
    result = diff_versions(models.get(a), models.get(b))
    if json_output:
        print_json(result)
        return
    metric_rows: list[list[Any]] = [
        [
            m["key"],
            m["a"],
            m["b"],
            (m["b"] - m["a"]) if isinstance(m["a"], float) and isinstance(m["b"], float) else None,
        ]
        for m in result["metrics"]
    ]
    console.print(table("Metrics", ["metric", result["a"], result["b"], "difference"], metric_rows))
    param_rows: list[list[Any]] = [
        [p["key"], p["a"], p["b"], "" if p["a"] == p["b"] else "≠"] for p in result["params"]
    ]
    console.print(table("Params", ["param", result["a"], result["b"], ""], param_rows))


def _set_status(
    ctx: typer.Context,
    ref: str,
    status: str,
    reason: str | None,
    by: str | None,
    json_output: bool,
    force: bool = False,
) -> None:
    from modelyard.registry import ApprovalStatus

    models = state(ctx).workspace().models
    version = models.set_status(ref, ApprovalStatus(status), reason, by, force=force)
    if json_output:
        print_json(version.to_dict())
        return
    console.print(
        f"{escape(version.ref)} is now [bold]{version.status.value}[/] "
        f"(by {escape(str(version.status_by))})"
    )


@app.command("approve")
def approve(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME:VERSION.")],
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
    by: Annotated[str | None, typer.Option(help="Who (default: the current user).")] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Approve a rejected version (needs --reason)."),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Approve a version for deployment (a rejected one only with --force and --reason)."""
    _set_status(ctx, ref, "approved", reason, by, json_output, force)


@app.command("reject")
def reject(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME:VERSION.")],
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
    by: Annotated[str | None, typer.Option(help="Who (default: the current user).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Reject a version."""
    _set_status(ctx, ref, "rejected", reason, by, json_output)


@app.command("alias")
def alias(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME:VERSION to point at (NAME with --remove).")],
    name: Annotated[str, typer.Argument(help="The alias, e.g. production.")],
    remove: Annotated[bool, typer.Option("--remove", help="Delete the alias.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Point an alias (production, staging, ...) at a version; moving it is recorded."""
    models = state(ctx).workspace().models
    model = ref.partition(":")[0]
    if remove:
        models.remove_alias(model, name)
        if json_output:
            print_json({"model": model, "alias": name, "removed": True})
        else:
            console.print(f"removed alias {escape(name)} of {escape(model)}")
        return
    version = models.set_alias(ref, name)
    if json_output:
        print_json(version.to_dict())
        return
    console.print(f"{escape(version.name)}:{escape(name)} → {escape(version.ref)}")


@app.command("history")
def history(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what happened to a model: registrations, approvals, alias moves."""
    events = state(ctx).workspace().models.history(name)
    if json_output:
        print_json([e.__dict__ for e in events])
        return
    rows: list[list[Any]] = [
        [e.created_at, e.kind, e.version, e.actor, format_value(e.details)] for e in events
    ]
    console.print(table(f"History of {name}", ["when", "event", "version", "who", "details"], rows))


@app.command("predict")
def predict(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME:ALIAS.")],
    input_file: Annotated[Path, typer.Option("--input", "-i", help="CSV, Parquet or JSON lines.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help=".csv or .parquet")] = None,
    keep: Annotated[str | None, typer.Option(help="Comma-separated input columns to keep.")] = None,
    flavor: Annotated[
        str,
        typer.Option(help="onnx, native or pipeline; another is used when it is missing."),
    ] = "onnx",
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON records.")] = False,
) -> None:
    """Predict locally for the rows of a file (the ONNX flavor when the model has one)."""
    from modelyard.registry import predict_file

    models = state(ctx).workspace().models
    version = models.get(ref)
    loaded = models.load(version, prefer=flavor)
    columns = [c.strip() for c in keep.split(",")] if keep else None
    result = predict_file(loaded, input_file, output, columns)
    if json_output:
        print_json(result.to_dict(orient="records"))
        return
    if output is not None:
        console.print(f"{len(result):,} predictions by {version.ref} ({loaded.flavor}) → {output}")
        return
    shown = result.head(20)
    console.print(
        table(f"{version.ref} ({loaded.flavor})", list(shown.columns), shown.values.tolist())
    )
    if len(result) > 20:
        console.print(f"… {len(result) - 20:,} more rows (use --output)")


@app.command("delete")
def delete(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Model version, NAME:VERSION.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Delete even if an endpoint serves it or an alias holds it."),
    ] = False,
    yes: YesOption = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Delete a model version's record (its package stays: it may be shared)."""
    confirm(f"delete model version {ref}?", yes)
    version = state(ctx).workspace().models.delete(ref, force=force)
    if json_output:
        print_json({"deleted": version.ref})
    else:
        console.print(Text(f"deleted model {version.ref}"))


@app.command("report")
def report(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME:ALIAS.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="HTML file (default: NAME-VERSION-report.html)."),
    ] = None,
    open_it: Annotated[
        bool, typer.Option("--open", help="Open the report in the web browser.")
    ] = False,
) -> None:
    """Write a version's evaluation report (metrics, baselines, plots) as an HTML file."""
    from modelyard.training import export_report

    path = export_report(state(ctx).workspace(), ref, output)
    console.print(Text(f"report → {path}"))
    if open_it:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())
