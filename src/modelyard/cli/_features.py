"""``modelyard features``: suggest a recipe from a dataset, preview what a recipe does."""

from __future__ import annotations

from typing import Annotated

import typer

from modelyard.cli._context import state
from modelyard.cli._render import console, print_json, table

__all__ = ["app"]

app = typer.Typer(help="Feature recipes (features.yaml).", no_args_is_help=True)


@app.command("suggest")
def suggest(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="NAME or NAME:VERSION.")],
) -> None:
    """Print a recipe suggested by the dataset's profile warnings (or its schema)."""
    from modelyard.features import suggest_recipe

    suggested = suggest_recipe(state(ctx).workspace().datasets, dataset)
    typer.echo(suggested.to_yaml(), nl=False)


@app.command("preview")
def preview(
    ctx: typer.Context,
    recipe: Annotated[str, typer.Argument(help="The recipe file (features.yaml).")],
    data: Annotated[str, typer.Option("--data", help="Dataset NAME or NAME:VERSION.")],
    rows: Annotated[int, typer.Option("-n", help="Rows to show.")] = 10,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fit a recipe on a dataset's training rows; show rows before and after, and
    the output columns."""
    from modelyard.features import Recipe, preview_recipe

    shown = preview_recipe(state(ctx).workspace().datasets, Recipe.from_file(recipe), data, rows)
    if json_output:
        print_json(
            {
                "before": shown.before.astype(object)
                .where(shown.before.notna(), None)
                .to_dict("records"),
                "after": shown.after.to_dict("records"),
                "outputs": [{"name": n, "source": s, "step": k} for n, s, k in shown.outputs],
            }
        )
        return
    before = shown.before.astype(object).where(shown.before.notna(), None)
    console.print(table("Before", list(before.columns), before.values.tolist()))
    console.print(table("After", list(shown.after.columns), shown.after.values.tolist()))
    console.print(
        table("Output columns", ["column", "from", "step"], [list(o) for o in shown.outputs])
    )
