"""Runs: the table (filter, sort, pages on the server), one run, and a comparison."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from modelyard.errors import InvalidInputError, NotFoundError
from modelyard.ui._context import PageRequest
from modelyard.ui._stored import stored_page

__all__ = ["compare", "report", "reports", "run_page", "runs_table"]

_PAGE = 50
_MAX_COMPARED = 10


def reports() -> tuple[str, ...]:
    """The HTML reports modelyard stores with a run: a spot-check's leaderboard, a
    tuning study's report, a training run's evaluation report."""
    from modelyard.automl._report import LEADERBOARD_ARTIFACT, STUDY_ARTIFACT
    from modelyard.training._report import REPORT_ARTIFACT

    return (LEADERBOARD_ARTIFACT, STUDY_ARTIFACT, REPORT_ARTIFACT)


def runs_table(page: PageRequest) -> Response:
    """One page of an experiment's runs; a filter that does not parse is shown under its box.

    The filter, the order and the experiment are checked before the layout's top is
    sent (a 400 or a 404 page), the search itself runs after (see
    :meth:`PageRequest.render`).
    """
    from modelyard.tracking import RunPage, parse_filter, parse_order

    runs = page.ui.workspace.runs
    experiments = runs.experiments()
    experiment = page.query("experiment") or None
    if experiment is not None and experiment not in experiments:
        raise NotFoundError(f"experiment {experiment!r} not found")
    text = page.query("filter")
    order = page.query("order", "start_time desc")
    offset = page.query_int("offset", 0)
    cli = "modelyard runs list" + (f" --experiment {experiment}" if experiment else "")
    shown: dict[str, Any] = {
        "experiments": experiments,
        "experiment": experiment,
        "filter": text,
        "order": order,
    }
    try:
        parse_filter(text)
        parse_order(order)
    except InvalidInputError as problem:
        found = RunPage([], 0, offset, _PAGE)
        return page.render(
            "runs.html",
            title="Runs",
            cli=cli,
            found=found,
            error=problem.message,
            status=400,
            **shown,
        )
    return page.render(
        "runs.html",
        title="Runs",
        cli=cli,
        error=None,
        later=lambda: {"found": runs.search(experiment, text, order, offset, _PAGE)},
        **shown,
    )


def run_page(page: PageRequest) -> Response:
    """One run: params, metrics, tags, artifacts, inputs."""
    run = page.ui.workspace.runs.get(page.param("run_id"))
    return page.render(
        "run.html",
        title=f"Run {run.name}",
        cli=f"modelyard runs show {run.id[:8]}",
        run=run,
        reports=reports(),
    )


def report(page: PageRequest) -> Response:
    """One of the HTML reports modelyard stores with a run (:func:`reports`), as it is.

    Sandboxed, as every stored report (see :mod:`modelyard.ui._stored`).
    """
    name = page.param("name")
    known = reports()
    if name not in known:
        raise NotFoundError(f"{name!r} is not a report (reports: {', '.join(known)})")
    return stored_page(page.ui.workspace.runs.artifact_bytes(page.param("run_id"), name))


def compare(page: PageRequest) -> Response:
    """Selected runs side by side: metric curves over steps, a param-vs-metric scatter,
    parallel coordinates."""
    ids = page.request.query_params.getlist("run")
    if not 2 <= len(ids) <= _MAX_COMPARED:
        raise InvalidInputError(f"select 2 to {_MAX_COMPARED} runs to compare (got {len(ids)})")
    store = page.ui.workspace.runs
    chosen = [store.get(run_id) for run_id in ids]
    keys = sorted({key for run in chosen for key in run.metrics})
    curves = {
        key: [
            {
                "run": run.name,
                "steps": [p.step for p in points],
                "values": [p.value for p in points],
            }
            for run in chosen
            if key in run.metrics
            for points in [store.metric_history(run.id, key)]
        ]
        for key in keys
    }
    params = sorted({key for run in chosen for key in run.params})
    charts = {
        "curves": curves,
        "runs": [
            {"name": run.name, "params": run.params, "metrics": run.metrics} for run in chosen
        ],
        "params": params,
        "metrics": keys,
    }
    cli = "modelyard runs compare " + " ".join(run.id[:8] for run in chosen[:2])
    return page.render(
        "compare.html", title="Compare runs", cli=cli, runs=chosen, charts=charts, keys=keys
    )
