"""``modelyard data``: ingest, list, show, head, diff, profile and compare datasets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from modelyard.cli._context import YesOption, confirm, state
from modelyard.cli._links import print_page_link
from modelyard.cli._render import (
    WideOption,
    console,
    format_value,
    print_json,
    print_records,
    print_table,
    table,
)

if TYPE_CHECKING:
    from modelyard.data import DatasetVersion
    from modelyard.profiling import Comparison, Profile

__all__ = ["app"]

app = typer.Typer(help="Versioned datasets.", no_args_is_help=True)


def _pairs(values: list[str], option: str) -> dict[str, str]:
    from modelyard.errors import InvalidInputError

    result = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key or not item:
            raise InvalidInputError(f"bad {option} {value!r}: expected COLUMN=VALUE")
        result[key] = item
    return result


@app.command("ingest")
def ingest(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Argument(help="CSV, Parquet or JSON-lines file.")] = None,
    name: Annotated[str, typer.Option("--name", "-n", help="Dataset name.")] = "",
    sql: Annotated[str | None, typer.Option("--sql", help="A SQL query to ingest.")] = None,
    from_url: Annotated[
        str | None, typer.Option("--from", help="SQLAlchemy URL the --sql query runs on.")
    ] = None,
    target: Annotated[str | None, typer.Option(help="The target column.")] = None,
    type_: Annotated[
        list[str] | None, typer.Option("--type", help="COLUMN=TYPE override (repeatable).")
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="COLUMN=ROLE: target, identifier, ignore, feature."),
    ] = None,
    split: Annotated[str, typer.Option(help="train,validation,test shares.")] = "0.7,0.15,0.15",
    seed: Annotated[int, typer.Option(help="Split seed.")] = 42,
    stratify: Annotated[bool, typer.Option(help="Stratify the split on the target.")] = True,
    time_column: Annotated[
        str | None, typer.Option(help="Order the split by this datetime column.")
    ] = None,
    no_split: Annotated[bool, typer.Option("--no-split", help="Store without splits.")] = False,
    file_format: Annotated[
        str | None, typer.Option("--format", help="csv, parquet or jsonl (default: suffix).")
    ] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter.")] = None,
    encoding: Annotated[
        str | None, typer.Option(help="CSV text encoding, e.g. latin-1 (default: UTF-8).")
    ] = None,
    date_format: Annotated[
        list[str] | None,
        typer.Option("--date-format", help="COLUMN=FORMAT, e.g. d=%d/%m/%Y (repeatable)."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Ingest a file or a SQL query as a new (or the existing identical) dataset version."""
    from modelyard.data import IngestOptions, SplitSpec
    from modelyard.errors import InvalidInputError

    if not name:
        raise InvalidInputError("give the dataset a name with --name")
    if (source is None) == (sql is None):
        raise InvalidInputError("give either a SOURCE file or --sql QUERY --from URL")
    if sql is not None and not from_url:
        raise InvalidInputError("--sql needs --from URL (the database to query)")
    spec = (
        None
        if no_split
        else SplitSpec.parse_ratios(split, seed=seed, stratify=stratify, time_column=time_column)
    )
    options = IngestOptions(
        target=target,
        types=_pairs(type_ or [], "--type"),
        roles=_pairs(role or [], "--role"),
        split=spec,
        file_format=file_format,
        delimiter=delimiter,
        encoding=encoding,
        date_formats=_pairs(date_format or [], "--date-format"),
    )
    datasets = state(ctx).workspace().datasets
    with console.status("Ingesting…"):
        if sql is not None:
            assert from_url is not None
            version, created = datasets.ingest_sql(sql, from_url, name, options)
        else:
            assert source is not None
            version, created = datasets.ingest(source, name, options)
    if json_output:
        print_json({"created": created, **_version_dict(version)})
        return
    verb = "Created" if created else "Unchanged: same content as"
    console.print(
        f"{verb} dataset [bold]{version.ref}[/] "
        f"({version.n_rows:,} rows, {version.n_columns} columns)"
    )
    _print_schema(version)


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this dataset's versions.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    wide: WideOption = False,
) -> None:
    """List dataset versions."""
    versions = state(ctx).workspace().datasets.list_versions(name)
    if json_output:
        print_json([_version_dict(v) for v in versions])
        return
    rows: list[list[Any]] = [
        [v.ref, v.n_rows, v.n_columns, v.target, v.source_format, v.created_at, v.source]
        for v in versions
    ]
    print_table(
        "Datasets",
        ["dataset", "rows", "columns", "target", "format", "created", "source"],
        rows,
        optional=("source", "created", "format"),
        wide=wide,
    )


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME or NAME:VERSION.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a version's schema and splits."""
    workspace = state(ctx).workspace()
    version = workspace.datasets.get(ref)
    if json_output:
        print_json(_version_dict(version))
        return
    console.print(
        f"[bold]{version.ref}[/]  {version.n_rows:,} rows, {version.n_columns} columns  "
        f"created {version.created_at:%Y-%m-%d %H:%M}  from {version.source}"
    )
    _print_schema(version)
    print_page_link(workspace, "datasets", version.name, version.version)


@app.command("head")
def head(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME or NAME:VERSION.")],
    rows: Annotated[int, typer.Option("--rows", "-n", min=1, help="How many rows.")] = 10,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    wide: Annotated[
        bool, typer.Option("--wide", help="One table however wide (default: fit the terminal).")
    ] = False,
) -> None:
    """Show the first rows of a version (columns split into tables that fit the terminal)."""
    data = state(ctx).workspace().datasets.head(ref, rows)
    records = data.to_pylist()
    if json_output:
        print_json(records)
        return
    columns = data.column_names
    print_records(ref, columns, [[r[c] for c in columns] for r in records], wide=wide)


@app.command("diff")
def diff(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="NAME:VERSION to compare from.")],
    new: Annotated[str, typer.Argument(help="NAME:VERSION to compare to.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare two versions: columns added, removed, retyped; row counts."""
    result = state(ctx).workspace().datasets.diff(old, new)
    if json_output:
        print_json(result.to_dict())
        return
    console.print(f"[bold]{result.old}[/] → [bold]{result.new}[/]")
    if result.same_content:
        console.print("same content")
        return
    delta = result.rows_new - result.rows_old
    console.print(f"rows: {result.rows_old:,} → {result.rows_new:,} ({delta:+,})")
    rows: list[list[Any]] = [[name, "added", "", ""] for name in result.added]
    rows += [[name, "removed", "", ""] for name in result.removed]
    rows += [[r["column"], "retyped", r["old"], r["new"]] for r in result.retyped]
    rows += [[r["column"], "role", r["old"], r["new"]] for r in result.role_changes]
    rows += [[r["column"], "missing share", r["old"], r["new"]] for r in result.missing_changes]
    if rows:
        console.print(table("Column changes", ["column", "change", "old", "new"], rows))
    else:
        console.print("same columns and types; the values differ")


@app.command("profile")
def profile(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME or NAME:VERSION.")],
    open_report: Annotated[
        bool, typer.Option("--open", help="Open the HTML report in a browser.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the HTML report here.")
    ] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Compute again instead of reusing the stored one.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Warnings to list.")] = 20,
) -> None:
    """Profile a version: statistics, correlations, warnings, an HTML report (stored)."""
    result = state(ctx).workspace().datasets.profile(ref, refresh=refresh)
    report = result.report_path
    if output is not None and report is not None:
        output.write_bytes(report.read_bytes())
        report = output
    if json_output:
        print_json({**result.to_dict(), "report_path": str(report) if report else None})
    else:
        _print_profile(result, limit)
        if report is not None:
            console.print(f"report: {escape(str(report))}")
    if open_report and report is not None:
        import webbrowser

        webbrowser.open(report.resolve().as_uri())


@app.command("compare")
def compare(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="NAME[:VERSION] to compare from.")],
    current: Annotated[str, typer.Argument(help="NAME[:VERSION] to compare to.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    wide: WideOption = False,
) -> None:
    """Two versions (or datasets) side by side, with a shift measure (PSI, KS, JS) per column."""
    result = state(ctx).workspace().datasets.compare(reference, current)
    if json_output:
        print_json(result.to_dict())
        return
    _print_comparison(result, wide)


@app.command()
def delete(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Dataset version, NAME:VERSION.")],
    force: Annotated[
        bool, typer.Option("--force", help="Delete even if a model version's lineage names it.")
    ] = False,
    yes: YesOption = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Delete a dataset version's record (its stored files stay: they may be shared)."""
    confirm(f"delete dataset version {ref}?", yes)
    version = state(ctx).workspace().datasets.delete(ref, force=force)
    if json_output:
        print_json({"deleted": version.ref})
    else:
        console.print(f"deleted dataset {escape(version.ref)}")


def _print_profile(result: Profile, limit: int) -> None:
    console.print(
        f"[bold]{escape(result.dataset)}[/]  {result.n_rows:,} rows, {result.n_columns:,} "
        f"columns  profiled in {result.seconds:.1f} s"
    )
    for note in result.sampling:
        console.print(
            escape(f"sampled for {note['what']}: {note['rows']:,} rows of {note['of']}"),
            style="dim",
        )
    for note in result.not_computed:
        named = ", ".join(map(str, note["columns"][:5]))
        more = f" and {len(note['columns']) - 5} more" if len(note["columns"]) > 5 else ""
        where = f" ({named}{more})" if named else ""
        console.print(escape(f"not computed: {note['what']}{where}: {note['reason']}"), style="dim")
    if not result.warnings:
        console.print("no warnings")
        return
    rows = [
        [w.kind, ", ".join(w.columns), w.message, w.suggestion.get("step", "")]
        for w in result.warnings[:limit]
    ]
    hidden = len(result.warnings) - len(rows)
    title = f"Warnings ({len(result.warnings)}" + (f", {hidden} not listed)" if hidden else ")")
    print_table(title, ["warning", "columns", "evidence", "suggestion"], rows)


def _print_comparison(result: Comparison, wide: bool) -> None:
    console.print(
        f"[bold]{escape(result.reference)}[/] ({result.rows[0]:,} rows) → "
        f"[bold]{escape(result.current)}[/] ({result.rows[1]:,} rows)"
    )
    rows: list[list[Any]] = []
    for column in result.columns:
        shift = column.get("shift") or {}
        rows.append(
            [
                column["name"],
                _side(column["reference"]),
                _side(column["current"]),
                shift.get("psi"),
                shift.get("ks"),
                shift.get("js_distance"),
                shift.get("level") or column.get("not_compared") or column["status"],
            ]
        )
    print_table(
        None,
        ["column", "reference", "current", "PSI", "KS", "JS", "shift"],
        rows,
        optional=("JS", "KS"),
        wide=wide,
    )
    shifted = result.shifted()
    console.print(
        escape(f"major shift: {', '.join(shifted)}") if shifted else "no major shift (PSI < 0.25)"
    )


def _side(side: dict[str, Any] | None) -> str:
    if side is None:
        return "absent"
    missing = f"{float(side.get('missing_share') or 0):.1%} missing"
    if side.get("mean") is not None:
        return f"mean {format_value(side['mean'])}, {missing}"
    top = side.get("top")
    if top:
        return f"top {top['value']} ({top['count']:,}), {missing}"
    return missing


def _print_schema(version: DatasetVersion) -> None:
    rows: list[list[Any]] = [
        [
            c.name,
            c.logical_type.value,
            c.role.value,
            f"{c.missing_share:.1%}",
            c.distinct_count,
            c.examples,
        ]
        for c in version.columns
    ]
    console.print(
        table("Schema", ["column", "type", "role", "missing", "distinct", "examples"], rows)
    )
    summary = version.split_summary
    if summary:
        counts = summary.get("counts", {})
        how = summary.get("method", "")
        if summary.get("stratified_on"):
            how += f" on {summary['stratified_on']}"
        if summary.get("ordered_by"):
            how += f" by {summary['ordered_by']}"
        seed = (version.split_spec or {}).get("seed")
        console.print(f"Splits: {how}, seed {seed}")
        console.print(
            table(
                None,
                ["split", "rows", "share"],
                [
                    [name, count, f"{count / max(version.n_rows, 1):.1%}"]
                    for name, count in counts.items()
                ],
            )
        )
        if summary.get("note"):
            console.print(f"[yellow]{summary['note']}[/]")


def _version_dict(version: DatasetVersion) -> dict[str, Any]:
    return {
        "ref": version.ref,
        "name": version.name,
        "version": version.version,
        "rows": version.n_rows,
        "columns": [c.to_dict() for c in version.columns],
        "target": version.target,
        "split": version.split_spec,
        "split_summary": version.split_summary,
        "source": version.source,
        "format": version.source_format,
        "fingerprint": version.fingerprint,
        "created_at": version.created_at.isoformat(),
    }
