"""``modelyard demo``: the whole lifecycle on built-in data, in a fresh workspace.

Each capability adds its stage here, so a new user sees every step once.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelyard.cli._automl import demo_stage as automl_stage
from modelyard.cli._demo_batch import batch_stage
from modelyard.cli._demo_loop import loop_stage
from modelyard.cli._demo_monitor import monitor_stage
from modelyard.cli._demo_recipe import recipe_stage
from modelyard.cli._demo_serving import serve_stage
from modelyard.cli._render import console, table

if TYPE_CHECKING:
    from modelyard.workspace import Workspace

__all__ = ["register"]


@dataclass
class _Tour:
    """What the stages share."""

    workspace: Workspace
    scratch: Path
    rows: int
    facts: dict[str, Any] = field(default_factory=dict)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the root app."""
    app.command("demo")(demo)


def demo(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Workspace directory (default: a new temporary one)."),
    ] = None,
    rows: Annotated[int, typer.Option(min=200, help="Rows of generated data.")] = 5000,
    ui: Annotated[
        bool, typer.Option("--ui", help="Then serve the web dashboard of the workspace.")
    ] = False,
    ui_port: Annotated[
        int, typer.Option("--ui-port", min=1, max=65535, help="The dashboard's port (--ui).")
    ] = 8090,
) -> None:
    """Walk through the lifecycle on built-in data in a temporary workspace."""
    from modelyard.workspace import Workspace

    root = directory or Path(tempfile.mkdtemp(prefix="modelyard-demo-"))
    console.rule("[bold]modelyard demo")
    started = time.perf_counter()
    with _stage("1. Workspace"):
        workspace = Workspace.init(root, exist_ok=True)
        described = workspace.describe()
        console.print(f"workspace  {described['workspace']}")
        console.print(f"database   {described['database']} (schema {described['schema_revision']})")
        console.print(f"artifacts  {described['artifacts']}")
    scratch = root / "demo-files"
    scratch.mkdir(exist_ok=True)
    tour = _Tour(workspace=workspace, scratch=scratch, rows=rows)
    try:
        for title, stage in _STAGES:
            with _stage(title):
                stage(tour)
    finally:
        workspace.close()
    console.rule(f"[bold green]done in {time.perf_counter() - started:.1f} s")
    _next_steps(root, tour)
    if ui:
        from modelyard.cli._ui import serve_dashboard

        serve_dashboard(root, port=ui_port)


@contextmanager
def _stage(title: str) -> Iterator[None]:
    console.rule(f"[bold cyan]{title}", align="left")
    started = time.perf_counter()
    yield
    console.print(f"[dim]({time.perf_counter() - started:.1f} s)[/]")


def _acquire(tour: _Tour) -> None:
    from modelyard import datasets
    from modelyard.cli._data import _print_schema
    from modelyard.data import IngestOptions

    csv_path = tour.scratch / "churn.csv"
    datasets.churn(tour.rows, seed=7).to_csv(csv_path, index=False)
    console.print(f"generated {tour.rows:,} customers → {csv_path}")
    options = IngestOptions(target="churned")
    version, _ = tour.workspace.datasets.ingest(csv_path, "churn", options)
    console.print(f"ingested as [bold]{version.ref}[/]")
    _print_schema(version)
    again, created = tour.workspace.datasets.ingest(csv_path, "churn", options)
    console.print(
        f"ingesting the same file again → {again.ref} "
        f"({'new version' if created else 'same content, same version'})"
    )
    drifted_path = tour.scratch / "churn-next-month.csv"
    datasets.churn(tour.rows, seed=8, drift=0.6).drop(
        columns=["num_lines"], errors="ignore"
    ).to_csv(drifted_path, index=False)
    newer, _ = tour.workspace.datasets.ingest(drifted_path, "churn", options)
    change = tour.workspace.datasets.diff(version.ref, newer.ref)
    console.print(
        f"next month's data → [bold]{newer.ref}[/]: "
        f"rows {change.rows_old:,} → {change.rows_new:,}, "
        f"columns removed: {', '.join(change.removed) or 'none'}"
    )
    houses_path = tour.scratch / "houses.parquet"
    datasets.houses(tour.rows, seed=7).to_parquet(houses_path, index=False)
    houses, _ = tour.workspace.datasets.ingest(houses_path, "houses", IngestOptions(target="price"))
    console.print(f"houses (regression) → [bold]{houses.ref}[/], target {houses.target}")
    tour.facts["churn"] = version.ref


def _explore(tour: _Tour) -> None:
    from modelyard.cli._data import _print_profile

    profile = tour.workspace.datasets.profile(tour.facts["churn"])
    _print_profile(profile, limit=5)
    console.print(f"report (HTML, works offline): {profile.report_path}")
    later = tour.workspace.datasets.list_versions("churn")[0].ref
    shifted = tour.workspace.datasets.compare(tour.facts["churn"], later).shifted()
    console.print(
        f"{tour.facts['churn']} → {later}: major shift in {', '.join(shifted) or 'no column'}"
    )


def _track(tour: _Tour) -> None:
    import numpy as np

    ref = tour.facts["churn"]
    train = tour.workspace.datasets.read(ref, split="train").to_pandas()
    test = tour.workspace.datasets.read(ref, split="test").to_pandas()
    with tour.workspace.start_run(experiment="churn-demo", name="rule-baseline") as run:
        run.log_input("dataset", ref, split="train")
        rule = {"contract": "month-to-month", "tenure_months_below": 12}
        run.log_params(rule)
        predicted = (test["contract"] == rule["contract"]) & (
            test["tenure_months"] < rule["tenure_months_below"]
        )
        actual = test["churned"].astype(bool)
        hits = float((predicted & actual).sum())
        precision = hits / max(float(predicted.sum()), 1.0)
        recall = hits / max(float(actual.sum()), 1.0)
        with run.batch():
            for threshold in range(1, 37):
                flagged = (test["contract"] == rule["contract"]) & (
                    test["tenure_months"] < threshold
                )
                run.log_metric(
                    "recall_by_tenure_cut",
                    float((flagged & actual).sum()) / max(float(actual.sum()), 1.0),
                    step=threshold,
                )
        run.log_metrics(
            {
                "train_churn_rate": float(np.mean(train["churned"])),
                "test_precision": precision,
                "test_recall": recall,
            }
        )
    info = tour.workspace.runs.get(run.id)
    console.print(
        f"run [bold]{info.id[:8]}[/] ({info.name}) {info.status.value}: "
        f"{len(info.params)} params, {sum(info.metric_counts.values())} metric values"
    )
    console.print(
        table("Metrics", ["metric", "value"], [[k, v] for k, v in sorted(info.metrics.items())])
    )
    tour.facts["run"] = info.id


def _train(tour: _Tour) -> None:
    from modelyard.training import TrainingSpec, train

    jobs = [
        TrainingSpec(
            dataset=tour.facts["churn"], algorithm="xgboost", requirements=("roc_auc>=0.75",)
        ),
        TrainingSpec(dataset="houses", algorithm="lightgbm", requirements=("r2>=0.6",)),
    ]
    rows: list[list[Any]] = []
    for spec in jobs:
        with console.status(f"training {spec.algorithm} on {spec.dataset}…") as status:
            result = train(tour.workspace, spec, progress=lambda m: status.update(f"{m}…"))
        assert result.model is not None
        headline = "roc_auc" if result.model.task != "regression" else "r2"
        rows.append(
            [
                result.model.ref,
                spec.algorithm,
                f"{headline} {result.evaluation.metrics[headline]:.3f}",
                ", ".join(message for _, _, message in result.messages),
                f"yes (max diff {result.onnx.max_difference:.1g})" if result.onnx.model else "no",
                result.model.status.value,
            ]
        )
        tour.facts[f"model:{result.model.name}"] = result.model.ref
        tour.facts[f"run:{result.model.name}"] = result.run_id
    console.print(
        table(
            "Trained, evaluated on the held-out test split, registered",
            ["model", "algorithm", "test metric", "success criteria", "ONNX parity", "status"],
            rows,
        )
    )
    console.print("each run holds an HTML evaluation report with ROC, PR, calibration plots")


def _register(tour: _Tour) -> None:
    from modelyard.registry import ApprovalStatus

    models = tour.workspace.models
    ref = tour.facts["model:churn"]
    models.set_status(ref, ApprovalStatus.APPROVED, "demo: criteria met", "demo")
    version = models.set_alias(ref, "production")
    console.print(f"approved {version.ref} and pointed [bold]churn:production[/] at it")
    lineage = version.lineage
    console.print(
        f"lineage: dataset {lineage['dataset']} → run {str(version.run_id)[:8]} → model "
        f"{version.ref} ({', '.join(version.flavors)} flavors)"
    )


def _predict(tour: _Tour) -> None:
    from modelyard import datasets
    from modelyard.registry import predict_file

    new_customers = tour.scratch / "new-customers.csv"
    datasets.churn(200, seed=99).drop(columns=["churned"]).to_csv(new_customers, index=False)
    loaded = tour.workspace.models.load("churn:production")
    scored = predict_file(loaded, new_customers, tour.scratch / "scored.csv", ["customer_id"])
    at_risk = scored.sort_values("proba_1", ascending=False).head(5)
    console.print(
        f"scored {len(scored)} new customers with churn:production ({loaded.flavor} flavor) "
        f"→ {tour.scratch / 'scored.csv'}"
    )
    console.print(table("Most at risk", list(at_risk.columns), at_risk.values.tolist()))


_STAGES: list[tuple[str, Callable[[_Tour], None]]] = [
    ("2. Acquire: ingest versioned datasets", _acquire),
    ("2b. Explore: profile churn, compare it with next month's data", _explore),
    ("3. Track: record a run", _track),
    ("4. Train and evaluate against success criteria", _train),
    ("4b. Prepare: a feature recipe, and a review-sentiment model on text", recipe_stage),
    ("5. Register: approve and alias", _register),
    ("6. Predict locally with the production model", _predict),
    ("7. Batch transform: score a file of new customers", batch_stage),
    ("8. Deploy: an endpoint with a challenger, a shadow and data capture", serve_stage),
    ("9. AutoML: spot-check, tune and register within a budget", automl_stage),
    ("10. Monitor: drift and quality on the captured traffic", monitor_stage),
    ("11. Retrain: a pipeline closes the loop", loop_stage),
]


def _next_steps(root: Path, tour: _Tour) -> None:
    console.print(f"Everything is in the workspace [bold]{root}[/]. Try:")
    for command in (
        f"modelyard -w {root} data list",
        f"modelyard -w {root} data show churn:1",
        f"modelyard -w {root} data diff churn:1 churn:2",
        f"modelyard -w {root} data profile churn:1 --open",
        f"modelyard -w {root} data compare churn:1 churn:2",
        f"modelyard -w {root} runs list",
        f"modelyard -w {root} runs show {tour.facts.get('run', '')[:8]}",
        f"modelyard -w {root} model list",
        f"modelyard -w {root} model show churn:production",
        f"modelyard -w {root} runs reproduce {tour.facts.get('run:churn', '')[:8]}",
        f"modelyard -w {root} model predict churn:production --input "
        f"{tour.scratch / 'new-customers.csv'}",
        f"modelyard -w {root} batch list",
        f"modelyard -w {root} endpoint list",
        f"modelyard -w {root} serve --port 8080   # then POST to /endpoints/churn-api/invocations",
        f"modelyard -w {root} ui   # the dashboard: http://127.0.0.1:8090/ui/",
    ):
        console.print(f"  [green]{command}[/]")
