"""``modelyard spotcheck``, ``tune`` and ``auto``: parse, call one SDK function, render."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelyard.cli._context import state
from modelyard.cli._render import console, err_console, print_json, table

if TYPE_CHECKING:
    from rich.table import Table

    from modelyard.automl import Leaderboard

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the AutoML commands."""
    app.command("spotcheck")(spotcheck)


TargetOption = Annotated[str | None, typer.Option(help="Target column (default: the dataset's).")]
TaskOption = Annotated[str | None, typer.Option(help="binary, multiclass or regression.")]
MetricOption = Annotated[
    str | None, typer.Option(help="Primary metric (default: roc_auc, or rmse for regression).")
]
SampleOption = Annotated[
    int, typer.Option("--sample", help="Cross-validate at most this many rows (0: all).")
]
FoldsOption = Annotated[int, typer.Option("--folds", help="Cross-validation folds.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def spotcheck(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="Dataset NAME[:VERSION] (with splits).")],
    target: TargetOption = None,
    task: TaskOption = None,
    metric: MetricOption = None,
    algorithm: Annotated[
        list[str] | None,
        typer.Option("--algorithm", "-a", help="Only these algorithms (repeatable)."),
    ] = None,
    sample: SampleOption = 10_000,
    folds: FoldsOption = 5,
    seed: Annotated[int, typer.Option(help="Random seed (folds, sample, models).")] = 0,
    json_output: JsonOption = False,
) -> None:
    """Cross-validate every algorithm for the task with its defaults; print a leaderboard."""
    from modelyard.automl import spotcheck as run_spotcheck

    workspace = state(ctx).workspace()
    with _live(json_output) as show:
        board = run_spotcheck(
            workspace,
            dataset,
            target=target,
            task=task,
            metric=metric,
            algorithms=algorithm or None,
            folds=folds,
            sample=sample or None,
            seed=seed,
            progress=show,
        )
    if json_output:
        print_json(board.to_dict())
        return
    console.print(leaderboard_table(board))
    best = board.best()
    if best is not None:
        console.print(f"best: [bold]{best.algorithm}[/]  run {board.run_id}")


@contextmanager
def _live(quiet: bool) -> Iterator[Callable[[Leaderboard], None]]:
    """A Rich live leaderboard on stderr, redrawn after each fold (nothing with --json)."""
    if quiet or not err_console.is_terminal:
        yield lambda board: None
        return
    from rich.live import Live

    with Live(console=err_console, transient=True, refresh_per_second=4) as live:
        yield lambda board: live.update(leaderboard_table(board))


def leaderboard_table(board: Leaderboard) -> Table:
    """The leaderboard, best first: mean ± std of the primary metric, the other
    metrics' means, fit and predict time, status (with a failed fold's reason)."""
    metric = board.metric
    others = [m for m in ("accuracy", "f1", "log_loss", "r2", "mae") if m != metric]
    rows: list[list[Any]] = []
    present: set[str] = set()
    for rank, entry in enumerate(board.ranked(), 1):
        mean, std = entry.mean(metric), entry.std(metric)
        score = "-" if mean is None else f"{mean:.4f} ± {std or 0.0:.4f}"
        status = entry.status
        if entry.errors:
            status = f"failed: {next(iter(entry.errors.values()))}"
        values = {m: entry.mean(m) for m in others}
        present |= {m for m, v in values.items() if v is not None}
        rows.append(
            [rank, entry.algorithm, score, values, entry.fit_seconds, entry.predict_seconds, status]
        )
    shown = [m for m in others if m in present]
    cells = [[r[0], r[1], r[2], *(r[3][m] for m in shown), *r[4:]] for r in rows]
    header = ["#", "algorithm", f"{metric} (mean ± std)", *shown, "fit s", "predict s", "status"]
    return table(
        f"Spot-check of {board.dataset} ({board.rows:,} rows)",
        header,
        cells,
        optional=shown,
    )
