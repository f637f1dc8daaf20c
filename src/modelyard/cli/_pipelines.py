"""``modelyard pipeline``: run saved pipelines, show their runs, explain their cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.tree import Tree

from modelyard.cli._context import state
from modelyard.cli._render import console, err_console, print_json, print_table
from modelyard.errors import InvalidInputError

if TYPE_CHECKING:
    from modelyard.pipelines import PipelineRun, PipelineStore, StepRecord

__all__ = ["app", "loop_app"]

app = typer.Typer(help="Pipelines: cached, conditional steps run as jobs.", no_args_is_help=True)

loop_app = typer.Typer(
    help="The closed loop: retrain, compare and deploy behind a guard on drift.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _store(ctx: typer.Context) -> PipelineStore:
    from modelyard.pipelines import PipelineStore

    return PipelineStore(state(ctx).workspace())


def _parse_params(pairs: list[str] | None) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"--param {pair!r}: write it as name=value")
        params[key.strip()] = value
    return params


@app.command("save")
def save(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A pipeline written as YAML.")],
) -> None:
    """Check and store the pipeline in FILE (replacing a saved one of its name)."""
    from modelyard.pipelines import definition_from_yaml

    definition = _store(ctx).save(definition_from_yaml(file))
    console.print(
        f"saved pipeline {definition['name']} ({len(definition['steps'])} steps)", markup=False
    )


@app.command("run")
def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A saved pipeline.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="name=value (repeatable).")
    ] = None,
    queue: Annotated[
        bool,
        typer.Option("--queue", help="Leave the run to `modelyard worker`; print its id."),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Run pipeline NAME; exits non-zero when a step fails."""
    if queue:
        queued = _store(ctx).submit(name, _parse_params(param))
        if json_output:
            print_json(queued.to_dict())
        else:
            console.print(f"queued run {queued.id} of {queued.pipeline}", markup=False)
        return
    result = _store(ctx).run(name, _parse_params(param))
    _render_run(result, json_output)


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A saved pipeline.")],
    cron: Annotated[
        str | None, typer.Option("--cron", help='When, in UTC: "0 6 * * MON" (five fields).')
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="name=value (repeatable).")
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Remove the schedule.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Run pipeline NAME on a cron schedule (by `modelyard worker`), or --off."""
    store = _store(ctx)
    if off == (cron is not None):
        raise InvalidInputError("give --cron EXPRESSION or --off")
    if off:
        store.unschedule(name)
        console.print(f"pipeline {name} no longer runs on a schedule", markup=False)
        return
    assert cron is not None
    made = store.schedule(name, cron, _parse_params(param))
    if json_output:
        print_json(made.to_dict())
        return
    console.print(
        f"pipeline {name} runs at {made.cron} (UTC); next {made.next_at:%Y-%m-%d %H:%M}",
        markup=False,
    )


@app.command("trigger")
def trigger(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A saved pipeline.")],
    on_dataset: Annotated[
        str | None, typer.Option("--on-dataset", help="Run when this dataset gets a new version.")
    ] = None,
    on_monitor: Annotated[
        str | None,
        typer.Option("--on-monitor", help="Run when this monitor finds new violations."),
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="name=value (repeatable).")
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Remove the pipeline's triggers.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Run pipeline NAME (by `modelyard worker`) on a new dataset version or monitor
    violations; or --off."""
    store = _store(ctx)
    chosen = [(on, what) for on, what in (("dataset", on_dataset), ("monitor", on_monitor)) if what]
    if off == bool(chosen) or len(chosen) > 1:
        raise InvalidInputError("give one of --on-dataset NAME, --on-monitor NAME, or --off")
    if off:
        removed = store.untrigger(name)
        console.print(f"removed {removed} trigger(s) of pipeline {name}", markup=False)
        return
    ((on, what),) = chosen
    made = store.trigger(name, on, what, _parse_params(param))
    if json_output:
        print_json(made.to_dict())
        return
    event = (
        f"each new version of dataset {what}"
        if on == "dataset"
        else (f"new violations of monitor {what}")
    )
    console.print(f"pipeline {name} runs on {event}", markup=False)


@app.command("triggers")
def triggers(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Pipelines that run on a new dataset version or on monitor violations."""
    found = _store(ctx).triggers()
    if json_output:
        print_json([t.to_dict() for t in found])
        return
    print_table(
        "Pipeline triggers",
        ["pipeline", "on", "name", "params", "last seen"],
        [[t.pipeline, t.on, t.name, json.dumps(t.params), t.seen] for t in found],
    )


@app.command("schedules")
def schedules(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Pipelines that run on a schedule, and when each runs next."""
    found = _store(ctx).schedules()
    if json_output:
        print_json([s.to_dict() for s in found])
        return
    print_table(
        "Pipeline schedules",
        ["pipeline", "cron (UTC)", "params", "next"],
        [[s.pipeline, s.cron, json.dumps(s.params), s.next_at] for s in found],
    )


@app.command("resume")
def resume(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A failed run (id or prefix).")],
    json_output: JsonOption = False,
) -> None:
    """Carry on a failed run from its failed step (finished steps are kept)."""
    _render_run(_store(ctx).resume(run_id), json_output)


@app.command("show")
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A run (id or prefix).")],
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the DAG as an HTML page here.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """The run's steps as a tree: status, cache hit or miss, timings."""
    result = _store(ctx).get_run(run_id)
    if html is not None:
        from modelyard.pipelines import render_run_html

        html.write_text(render_run_html(result), encoding="utf-8")
        err_console.print(f"wrote {html}", markup=False)
    if json_output:
        print_json(result.to_dict())
        return
    console.print(_tree(result))


@app.command("explain-cache")
def explain_cache(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="A run (id or prefix).")],
    step: Annotated[str, typer.Argument(help="The step's name.")],
    json_output: JsonOption = False,
) -> None:
    """Why STEP did or did not reuse a result: what changed since the previous run."""
    why = _store(ctx).explain_cache(run_id, step)
    if json_output:
        print_json(why.to_dict())
        return
    say = console.print
    say(f"step {why.step}: cache {why.cache or '-'}", markup=False)
    if why.reason:
        say(f"  {why.reason}", markup=False)
    if why.previous_run is None:
        return
    say(f"  previous run {why.previous_run[:12]}", markup=False)
    if not why.changes:
        say("  key unchanged", markup=False)
    for change in why.changes:
        before, after = _short(change.before), _short(change.after)
        say(f"  changed {change.part}: {before} -> {after}", markup=False, soft_wrap=True)


@app.command("list")
def list_pipelines(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Saved pipelines."""
    saved = _store(ctx).list()
    if json_output:
        print_json(saved)
        return
    print_table(
        "Pipelines",
        ["name", "steps", "params", "updated"],
        [[p["name"], p["steps"], json.dumps(p["params"]), p["updated_at"]] for p in saved],
    )


@app.command("runs")
def runs(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this pipeline's runs.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 20,
    json_output: JsonOption = False,
) -> None:
    """Pipeline runs, newest first: status, steps run and reused, error."""
    found = _store(ctx).runs(name, limit=limit)
    if json_output:
        print_json([r.to_dict() for r in found])
        return
    print_table(
        "Pipeline runs",
        ["id", "pipeline", "status", "ran", "reused", "created", "error"],
        [
            [
                r.id[:12],
                r.pipeline,
                r.status.value,
                sum(s.cache in ("miss", "off") and s.status != "skipped" for s in r.steps),
                sum(s.cache == "hit" for s in r.steps),
                r.created_at,
                r.error or "",
            ]
            for r in found
        ],
    )


def _render_run(result: PipelineRun, json_output: bool) -> None:
    if json_output:
        print_json(result.to_dict())
    else:
        console.print(f"run {result.id} of {result.pipeline}: {result.status.value}", markup=False)
        console.print(_tree(result))
    if result.error is not None:
        err_console.print(f"error: {result.error}", markup=False, soft_wrap=True)
        raise typer.Exit(code=1)


def _tree(result: PipelineRun) -> Tree:
    """Each step under the last of its inputs (the others named), roots at the top."""
    root = Tree(f"{result.pipeline} ({result.status.value})")
    nodes: dict[str, Tree] = {}
    for step in result.steps:
        parent = nodes[step.depends[-1]] if step.depends else root
        nodes[step.name] = parent.add(_label(step))
    return root


def _label(step: StepRecord) -> str:
    parts = [f"{step.name} [{step.kind}]", step.status]
    if step.cache is not None:
        parts.append(f"cache {step.cache}")
    if step.seconds is not None and step.cache != "hit" and step.status != "skipped":
        parts.append(f"{step.seconds:.2f}s")
    if len(step.depends) > 1:
        parts.append(f"after {', '.join(step.depends)}")
    if step.reason and step.status == "skipped":
        parts.append(step.reason)
    if step.error:
        parts.append(f"error: {step.error}")
    return " · ".join(parts).replace("[", "\\[")


def _short(value: Any) -> str:
    if isinstance(value, dict) and "ref" in value:
        return str(value["ref"])
    return json.dumps(value, default=str)


@loop_app.command("create")
def loop_create(
    ctx: typer.Context,
    endpoint: Annotated[str, typer.Argument(help="The endpoint whose model the loop renews.")],
    gateway: Annotated[
        list[str], typer.Option("--gateway", help="Gateway URL the guard watches (repeatable).")
    ],
    on: Annotated[
        str, typer.Option("--on", help="monitor (drift, quality) and/or dataset, comma-separated.")
    ] = "monitor",
    promote: Annotated[
        str, typer.Option("--promote", help="The guarded deployment: canary:10%:30m, linear:...")
    ] = "canary:10%:30m",
    metric: Annotated[str, typer.Option(help="Compared on the newest labelled rows.")] = "roc_auc",
    margin: Annotated[float, typer.Option(help="How much better the candidate must be.")] = 0.0,
) -> None:
    """Retrain ENDPOINT's model with its recorded spec when its monitor finds violations
    (or its dataset gets a new version); deploy behind the guard only when better."""
    from modelyard.pipelines import create_loop

    triggers = [part.strip() for part in on.split(",") if part.strip()]
    kinds = ["monitor" if t in ("drift", "quality") else t for t in triggers]
    definition = create_loop(
        _store(ctx), endpoint, gateways=gateway, on=sorted(set(kinds)), strategy=promote,
        metric=metric, margin=margin,
    )  # fmt: skip
    console.print(
        f"loop of {endpoint}: pipeline {definition['name']} runs on {', '.join(triggers)} "
        f"(by `modelyard worker`), promoting with {promote}",
        markup=False,
    )


@loop_app.command("history")
def loop_history(
    ctx: typer.Context,
    endpoint: Annotated[str, typer.Argument(help="The endpoint.")],
    json_output: JsonOption = False,
) -> None:
    """Every decision of ENDPOINT's loop, newest first, with its evidence."""
    from modelyard.pipelines import loop_history as history

    decisions = history(_store(ctx), endpoint)
    if json_output:
        print_json(decisions)
        return
    print_table(
        f"Loop of {endpoint}",
        ["run", "created", "trigger", "decision", "reason"],
        [
            [d["run"][:12], d["created_at"], d["trigger"] or "", d["decision"], d["reason"]]
            for d in decisions
        ],
    )
