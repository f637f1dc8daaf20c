"""``modelyard train``, ``algorithms`` and ``runs reproduce``."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from modelyard.cli._context import state
from modelyard.cli._render import console, err_console, print_json, table

if TYPE_CHECKING:
    from modelyard.training import TrainingProgress, TrainingResult

__all__ = ["register"]


def register(app: typer.Typer, runs_app: typer.Typer) -> None:
    """Add the training commands."""
    app.command("train")(train)
    app.command("algorithms")(algorithms)
    runs_app.command("reproduce")(reproduce)


def _params(pairs: list[str], params_json: str | None) -> dict[str, Any]:
    from modelyard.errors import InvalidInputError

    params: dict[str, Any] = {}
    if params_json:
        try:
            loaded = json.loads(params_json)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"--params is not valid JSON: {exc.msg}") from None
        if not isinstance(loaded, dict):
            raise InvalidInputError("--params must be a JSON object, e.g. '{\"max_depth\": 4}'")
        params.update(loaded)
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"bad --param {pair!r}: expected NAME=VALUE")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


def train(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="Dataset NAME[:VERSION] (with splits).")],
    target: Annotated[
        str | None, typer.Option(help="Target column (default: the dataset's).")
    ] = None,
    algorithm: Annotated[
        str, typer.Option("--algorithm", "-a", help="See `modelyard algorithms`.")
    ] = "xgboost",
    param: Annotated[
        list[str] | None, typer.Option("--param", help="NAME=VALUE (repeatable).")
    ] = None,
    params: Annotated[str | None, typer.Option("--params", help="Hyperparameters as JSON.")] = None,
    params_from: Annotated[str | None, typer.Option(help="Reuse a training run's params.")] = None,
    require: Annotated[
        list[str] | None, typer.Option("--require", help='Success criterion, e.g. "roc_auc>=0.80".')
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Model name (default: dataset).")
    ] = None,
    task: Annotated[str | None, typer.Option(help="binary, multiclass or regression.")] = None,
    threshold: Annotated[
        str, typer.Option(help="f1, precision:0.9, recall:0.8 or default.")
    ] = "f1",
    scale: Annotated[
        bool | None, typer.Option("--scale/--no-scale", help="Standardise numerics.")
    ] = None,
    one_hot_max: Annotated[int, typer.Option(help="Most levels for one-hot encoding.")] = 20,
    high_cardinality: Annotated[
        str | None, typer.Option(help="ordinal or target (above --one-hot-max levels).")
    ] = None,
    imputation: Annotated[str, typer.Option(help="median or mean for numerics.")] = "median",
    drop: Annotated[
        list[str] | None, typer.Option("--drop", help="Feature column to leave out.")
    ] = None,
    recipe: Annotated[
        str | None, typer.Option("--recipe", help="Feature recipe (features.yaml).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    experiment: Annotated[str | None, typer.Option(help="Experiment of the run.")] = None,
    refit: Annotated[
        bool,
        typer.Option("--refit", help="Refit the final model on train + validation (rounds kept)."),
    ] = False,
    refit_all: Annotated[
        bool,
        typer.Option(
            "--refit-all",
            help="After evaluation, refit on every split, test included (metrics stay the "
            "evaluated model's).",
        ),
    ] = False,
    allow_worse: Annotated[
        bool,
        typer.Option(
            "--allow-worse-than-baseline",
            help="Do not reject a model no better than the trivial baseline.",
        ),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Train on the training split, evaluate on the test split, check criteria, register."""
    from modelyard.features import PreprocessOptions, Recipe
    from modelyard.training import TrainingSpec
    from modelyard.training import train as run_training

    workspace = state(ctx).workspace()
    spec = TrainingSpec(
        dataset=dataset,
        target=target,
        algorithm=algorithm,
        params=_params(param or [], params),
        params_from=params_from,
        requirements=tuple(require or ()),
        model_name=name,
        task=task,
        threshold=threshold,
        preprocessing=PreprocessOptions(
            numeric_imputation=imputation,
            scale=scale,
            one_hot_max_categories=one_hot_max,
            high_cardinality=high_cardinality,
            drop_columns=tuple(drop or ()),
            recipe=Recipe.from_file(recipe) if recipe is not None else None,
        ),
        seed=seed,
        experiment=experiment,
        refit=refit,
        refit_all=refit_all,
        allow_worse_than_baseline=allow_worse,
    )
    with _progress_bar() as report:
        result = run_training(workspace, spec, progress=report)
    if json_output:
        print_json(_result_dict(result))
    else:
        _print_result(result)
    if not result.passed:
        failed = "; ".join(message for _, ok, message in result.messages if not ok)
        ref = result.model.ref if result.model else "the model"
        err_console.print(
            Text(f"error: {ref} failed its success criteria: {failed}"), soft_wrap=True
        )
        raise typer.Exit(code=10)


@contextmanager
def _progress_bar() -> Iterator[Callable[[TrainingProgress], None]]:
    """A Rich progress bar on stderr, one step per stage the job reports."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("training", total=None)

        def report(event: TrainingProgress) -> None:
            bar.update(task, description=f"{event.message}…", completed=event.stage - 1)
            bar.update(task, total=event.stages)

        yield report


def _result_dict(result: TrainingResult) -> dict[str, Any]:
    return {
        "run_id": result.run_id,
        "model": result.model.to_dict() if result.model else None,
        "passed": result.passed,
        "criteria": [{"criterion": c, "passed": ok, "message": m} for c, ok, m in result.messages],
        "metrics": result.evaluation.metrics,
        "baselines": result.evaluation.baselines,
        "threshold": (
            dataclasses.asdict(result.evaluation.threshold) if result.evaluation.threshold else None
        ),
        "onnx": result.onnx.manifest_entry(),
    }


def _print_result(result: TrainingResult) -> None:
    model = result.model
    if model is not None:
        console.print(
            f"Registered [bold]{model.ref}[/] ({model.algorithm}, {model.task}) "
            f"status [bold]{model.status.value}[/]  run {result.run_id[:8]}"
        )
    metrics, baselines = result.evaluation.metrics, result.evaluation.baselines
    rows = [[k, v, *(b.get(k) for b in baselines.values())] for k, v in metrics.items()]
    header = ["metric", "model", *(f"{name} (trivial)" for name in baselines)]
    console.print(table("Test metrics", header, rows))
    for criterion, ok, message in result.messages:
        mark = "[green]pass[/]" if ok else "[red]FAIL[/]"
        console.print(f"  {mark} {criterion}: {message}")
    onnx = result.onnx
    if onnx.model is not None:
        console.print(
            f"ONNX flavor: yes ({onnx.converter}, max difference {onnx.max_difference:.2g})"
        )
    else:
        console.print(f"ONNX flavor: no ({onnx.reason})")
    if result.evaluation.threshold is not None:
        t = result.evaluation.threshold
        console.print(
            f"decision threshold {t.threshold:.3f} ({t.strategy}, chosen on {t.chosen_on} rows)"
        )
    ref = model.ref if model is not None else "NAME:VERSION"
    console.print(f"report: modelyard model report {ref} --open")


def algorithms(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the algorithm catalog."""
    from modelyard.training import ALGORITHMS

    rows: list[list[Any]] = [
        [
            a.name,
            ", ".join(sorted(a.tasks)),
            "yes" if a.needs_scaling else "",
            "yes" if a.early_stopping else "",
            a.description,
        ]
        for a in ALGORITHMS.values()
    ]
    if json_output:
        print_json(
            [
                dict(
                    zip(
                        ["name", "tasks", "scaling", "early_stopping", "description"],
                        r,
                        strict=True,
                    )
                )
                for r in rows
            ]
        )
        return
    console.print(
        table("Algorithms", ["name", "tasks", "scaling", "early stopping", "description"], rows)
    )


def reproduce(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A training run's id or prefix.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Re-run a training run from its recorded lineage and compare the metrics."""
    from modelyard.training import reproduce as run_reproduce

    workspace = state(ctx).workspace()
    with _progress_bar() as report:
        result = run_reproduce(workspace, run_id, progress=report)
    if json_output:
        print_json(
            {
                "identical": result.identical,
                "original": result.original_run,
                "new": result.new_run,
                "metrics": result.metrics,
            }
        )
    else:
        rows: list[list[Any]] = [
            [r["metric"], r["original"], r["reproduced"], "yes" if r["match"] else "NO"]
            for r in result.metrics
        ]
        console.print(table(None, ["metric", "original", "reproduced", "match"], rows))
        verdict = "identical metrics" if result.identical else "metrics DIFFER"
        console.print(f"run {result.new_run[:8]} reproduces {result.original_run[:8]}: {verdict}")
    if not result.identical:
        raise typer.Exit(code=11)
