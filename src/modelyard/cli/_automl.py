"""``modelyard spotcheck``, ``tune`` and ``auto``: parse, call one SDK function, render."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelyard.cli._context import state
from modelyard.cli._render import console, err_console, print_json, table

if TYPE_CHECKING:
    from rich.table import Table

    from modelyard.automl import AutoResult, Leaderboard, TrialResult, TuneResult

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the AutoML commands."""
    app.command("spotcheck")(spotcheck)
    app.command("tune")(tune)
    app.command("auto")(auto)


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
RecipeOption = Annotated[
    Path | None,
    typer.Option(
        "--recipe", help="Feature recipe (features.yaml), fitted in every fold's training rows."
    ),
]


def _recipe(path: Path | None) -> Any:
    """The recipe of ``--recipe`` (``None`` without one)."""
    from modelyard.features import Recipe

    return Recipe.from_file(path) if path is not None else None


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
    recipe: RecipeOption = None,
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
            recipe=_recipe(recipe),
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


def parse_duration(text: str | None) -> float | None:
    """Seconds in ``--budget`` (``None`` stays ``None``)."""
    from modelyard._duration import parse_duration

    return None if text is None else parse_duration(text, what="--budget")


def tune(
    ctx: typer.Context,
    dataset: Annotated[
        str | None, typer.Argument(help="Dataset NAME[:VERSION] (not with --resume).")
    ] = None,
    algorithm: Annotated[
        str, typer.Option("--algorithm", "-a", help="See `modelyard algorithms`.")
    ] = "lightgbm",
    target: TargetOption = None,
    task: TaskOption = None,
    metric: MetricOption = None,
    trials: Annotated[
        int | None, typer.Option("--trials", help="Finished trials to reach (default 20).")
    ] = None,
    budget: Annotated[
        str | None, typer.Option("--budget", help="Wall-time budget: 90s, 5m, 1h.")
    ] = None,
    sampler: Annotated[str, typer.Option(help="tpe, random, grid or cmaes.")] = "tpe",
    pruner: Annotated[
        str, typer.Option(help="median, hyperband or none (on the running fold mean).")
    ] = "median",
    workers: Annotated[
        int | None, typer.Option("--workers", help="Trials at once (default: the executor's).")
    ] = None,
    sample: SampleOption = 10_000,
    folds: FoldsOption = 3,
    seed: Annotated[int, typer.Option(help="Random seed (sampler, folds, models).")] = 0,
    resume_study: Annotated[
        str | None, typer.Option("--resume", help="Continue this study (its name).")
    ] = None,
    warm_start: Annotated[
        str | None,
        typer.Option("--warm-start", help="Start from this earlier study's best parameters."),
    ] = None,
    space: Annotated[
        Path | None,
        typer.Option("--space", help="YAML overriding the search space: NAME: {low, high}."),
    ] = None,
    recipe: RecipeOption = None,
    json_output: JsonOption = False,
) -> None:
    """Tune one algorithm's hyperparameters: a resumable Optuna study in the workspace."""
    from modelyard import automl
    from modelyard.automl._space import read_space
    from modelyard.errors import InvalidInputError

    workspace = state(ctx).workspace()
    seconds = parse_duration(budget)
    chosen = _recipe(recipe)  # a bad file fails before any worker starts
    with _executor(workspace, workers) as executor, _trial_view(json_output) as show:
        if resume_study is not None:
            if dataset is not None or chosen is not None:
                raise InvalidInputError(
                    "give a dataset (and --recipe) or --resume STUDY, not both: "
                    "a resumed study keeps its own dataset and recipe"
                )
            result = automl.resume(
                workspace,
                resume_study,
                trials=trials,
                budget_seconds=seconds,
                executor=executor,
                progress=show,
            )
        else:
            if dataset is None:
                raise InvalidInputError("give a dataset to tune, or --resume STUDY")
            result = automl.tune(
                workspace,
                dataset,
                algorithm=algorithm,
                target=target,
                task=task,
                metric=metric,
                trials=trials if trials is not None or seconds is not None else 20,
                budget_seconds=seconds,
                sampler=sampler,
                pruner=pruner,
                warm_start=warm_start,
                space=read_space(space) if space is not None else None,
                folds=folds,
                sample=sample or None,
                seed=seed,
                executor=executor,
                progress=show,
                recipe=chosen,
            )
    if json_output:
        print_json(result.to_dict())
        return
    _print_tuning(result)


@contextmanager
def _executor(workspace: Any, workers: int | None) -> Iterator[Any]:
    """The workspace's executor, ``workers`` wide when given."""
    from modelyard.execution import executor_from_settings

    settings = workspace.settings
    if workers is not None:
        settings = settings.model_copy(update={"max_workers": workers})
    with executor_from_settings(settings) as executor:
        yield executor


@contextmanager
def _trial_view(quiet: bool) -> Iterator[Callable[[TrialResult], None]]:
    """The trials on stderr as they are told: a Rich live table (the latest trials
    and the best score so far) on a terminal, one line per trial otherwise, nothing
    with --json."""
    if quiet:
        yield lambda trial: None
        return
    if not err_console.is_terminal:
        yield lambda trial: err_console.print(_trial_line(trial), markup=False)
        return
    from rich.live import Live

    told: list[TrialResult] = []
    with Live(console=err_console, transient=True, refresh_per_second=4) as live:

        def show(trial: TrialResult) -> None:
            told.append(trial)
            live.update(trials_table(told))

        yield show


def _trial_line(trial: TrialResult) -> str:
    best = "" if trial.best is None else f"  (best {trial.best:.4f})"
    if trial.value is None:
        state_word = "pruned" if trial.state == "pruned" else f"failed ({trial.error})"
        return f"trial {trial.number}: {state_word}{best}"
    return f"trial {trial.number}: {trial.value:.4f}  {trial.params}{best}"


def trials_table(told: list[TrialResult], shown: int = 10) -> Table:
    """The latest ``shown`` told trials, newest last, under a title with the count
    and the study's best score so far."""
    best = told[-1].best if told else None
    title = f"Tuning: {len(told)} trial(s) told" + ("" if best is None else f", best {best:.4f}")
    rows = [
        [
            t.number,
            t.state if t.error is None else f"{t.state}: {t.error}",
            "-" if t.value is None else f"{t.value:.4f}",
            ", ".join(f"{k}={_short(v)}" for k, v in t.params.items()),
        ]
        for t in told[-shown:]
    ]
    return table(title, ["trial", "state", "score", "parameters"], rows)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _print_tuning(result: TuneResult) -> None:
    rows = [[k, v] for k, v in result.best_params.items()]
    console.print(table(f"Best parameters ({result.algorithm})", ["parameter", "value"], rows))
    best = "-" if result.best_value is None else f"{result.best_value:.4f}"
    console.print(
        f"study [bold]{result.study}[/]: {result.finished} finished, {result.pruned} pruned, "
        f"{result.failed} failed "
        f"trials; best {result.metric} {best}; stopped by {result.stopped}"
    )
    console.print(f"continue it with: modelyard tune --resume {result.study}")
    if result.run_id is not None:
        console.print(
            f"its report (study.html): modelyard runs artifacts {result.run_id} --output DIR"
        )


def auto(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="Dataset NAME[:VERSION] (with splits).")],
    budget: Annotated[str, typer.Option("--budget", help="Wall-time budget: 90s, 5m, 1h.")] = "5m",
    require: Annotated[
        list[str] | None, typer.Option("--require", help='Success criterion, e.g. "roc_auc>=0.8".')
    ] = None,
    target: TargetOption = None,
    task: TaskOption = None,
    metric: MetricOption = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Model name (default: dataset).")
    ] = None,
    sample: SampleOption = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    refit_all: Annotated[
        bool,
        typer.Option(
            "--refit-all",
            help="After evaluation, refit the winner on every split, test included "
            "(metrics stay the evaluated model's).",
        ),
    ] = False,
    recipe: RecipeOption = None,
    json_output: JsonOption = False,
) -> None:
    """Spot-check, tune the best candidates, train the winner, evaluate, register."""
    from rich.text import Text

    from modelyard.automl import auto as run_auto

    workspace = state(ctx).workspace()
    seconds = parse_duration(budget) or 0.0
    say = (lambda message: None) if json_output else _say
    result = run_auto(
        workspace,
        dataset,
        budget_seconds=seconds,
        requirements=tuple(require or ()),
        target=target,
        task=task,
        metric=metric,
        model_name=name,
        sample=sample or None,
        seed=seed,
        refit_all=refit_all,
        say=say,
        recipe=_recipe(recipe),
    )
    if json_output:
        print_json(result.to_dict())
    else:
        _print_auto(result)
    if not result.passed:
        training = result.training
        failed = "; ".join(m for _, ok, m in (training.messages if training else []) if not ok)
        ref = training.model.ref if training and training.model else "the model"
        err_console.print(
            Text(f"error: {ref} failed its success criteria: {failed}"), soft_wrap=True
        )
        raise typer.Exit(code=10)


def _say(message: str) -> None:
    err_console.print(f"{message}…", markup=False)


def _print_auto(result: AutoResult) -> None:
    console.print(leaderboard_table(result.leaderboard))
    for study in result.studies:
        best = "-" if study.best_value is None else f"{study.best_value:.4f}"
        console.print(
            f"tuned {study.algorithm}: {study.finished} trials, best {study.metric} {best} "
            f"(study {study.study})"
        )
    training = result.training
    if training is None:
        return
    model = training.model
    score = "-" if result.cv_score is None else f"{result.cv_score:.4f}"
    console.print(
        f"winner [bold]{result.algorithm}[/] (cross-validated {result.leaderboard.metric} {score})"
    )
    if model is not None:
        console.print(
            f"Registered [bold]{model.ref}[/] status [bold]{model.status.value}[/]  "
            f"run {training.run_id[:8]}  in {result.seconds:.0f}s"
        )
    rows = [[k, v] for k, v in training.evaluation.metrics.items()]
    console.print(table("Test metrics", ["metric", "value"], rows))
    if training.spec.refit_all:
        console.print(
            "refit on every row (train + validation + test) after evaluation: "
            "the test metrics are the evaluated model's"
        )
    for criterion, ok, message in training.messages:
        mark = "[green]pass[/]" if ok else "[red]FAIL[/]"
        console.print(f"  {mark} {criterion}: {message}")


def demo_stage(tour: Any) -> None:
    """The demo's AutoML stage: a short ``auto`` on churn, its leaderboard and model
    (refit on every row once evaluated, as FLAML's default does)."""
    from modelyard.automl import auto as run_auto

    with console.status("auto: spot-check, tune, train, register (20 s budget)…") as status:
        result = run_auto(
            tour.workspace,
            tour.facts["churn"],
            budget_seconds=20,
            requirements=("roc_auc>=0.75",),
            model_name="churn-auto",
            refit_all=True,
            say=lambda message: status.update(f"{message}…"),
        )
    _print_auto(result)
