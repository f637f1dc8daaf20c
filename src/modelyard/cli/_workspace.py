"""``modelyard init``, ``info`` and ``db``: the workspace itself."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from modelyard.cli._context import state
from modelyard.cli._render import console, print_json, table

__all__ = ["register"]

db_app = typer.Typer(help="The metadata database: schema migrations.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the workspace commands to the root app."""
    app.command("init")(init)
    app.command("info")(info)
    app.add_typer(db_app, name="db")


def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the workspace.")] = Path(),
    database_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL of the metadata database.")
    ] = None,
    artifact_url: Annotated[
        str | None, typer.Option(help="Artifact root: a path or fsspec URL.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a workspace: settings file, metadata database, artifact root."""
    from modelyard.workspace import Workspace

    with Workspace.init(directory, database_url=database_url, artifact_url=artifact_url) as ws:
        described = ws.describe()
    if json_output:
        print_json(described)
        return
    console.print(f"Created workspace [bold]{escape(described['workspace'])}[/]")
    console.print(f"  database:  {described['database']} (schema {described['schema_revision']})")
    console.print(f"  artifacts: {described['artifacts']}")


def info(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the version, the workspace, its settings in use and what it holds."""
    from modelyard import __version__

    workspace = state(ctx).workspace()
    described = {"version": __version__, **workspace.describe()}
    counts = workspace.metadata.counts()
    if json_output:
        print_json({**described, "counts": counts})
        return
    console.print(
        table("modelyard workspace", ["setting", "value"], list(map(list, described.items())))
    )
    console.print(table("Contents", ["noun", "count"], list(map(list, counts.items()))))


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the metadata database to the newest schema (or REVISION)."""
    from modelyard.metadata import MetadataStore
    from modelyard.settings import load_settings

    settings = load_settings(state(ctx).workspace_path)
    store = MetadataStore(settings.resolved_database_url, auto_upgrade=False)
    try:
        before = store.revision()
        store.upgrade(revision)
        after = store.revision()
    finally:
        store.dispose()
    console.print(f"database {store.display_url}: {before or 'empty'} -> {after}")


@db_app.command("current")
def db_current(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the schema revision of the database and the newest one known."""
    from modelyard.metadata import MetadataStore, head_revision
    from modelyard.settings import load_settings

    settings = load_settings(state(ctx).workspace_path)
    store = MetadataStore(settings.resolved_database_url, auto_upgrade=False)
    try:
        current = store.revision()
    finally:
        store.dispose()
    if json_output:
        print_json({"current": current, "head": head_revision()})
        return
    console.print(f"current: {current or 'empty'}  head: {head_revision()}")
