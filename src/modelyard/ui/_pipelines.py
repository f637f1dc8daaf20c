"""Pipelines: the newest runs, and one run's steps with its DAG as a picture."""

from __future__ import annotations

from starlette.responses import Response

from modelyard.ui._context import PageRequest
from modelyard.ui._stored import stored_page

__all__ = ["dag", "pipeline_run", "pipelines"]

_SHOWN = 100


def pipelines(page: PageRequest) -> Response:
    """The newest pipeline runs: pipeline, status, steps run and reused, error."""
    from modelyard.pipelines import PipelineStore

    found = PipelineStore(page.ui.workspace).runs(limit=_SHOWN)
    return page.render(
        "pipelines.html", title="Pipelines", cli="modelyard pipeline runs", runs=found
    )


def pipeline_run(page: PageRequest) -> Response:
    """One run: its steps (status, cache, time, error) and its DAG."""
    from modelyard.pipelines import PipelineStore

    run = PipelineStore(page.ui.workspace).get_run(page.param("run_id"))
    return page.render(
        "pipeline_run.html",
        title=f"Pipeline {run.pipeline} · run {run.id[:12]}",
        cli=f"modelyard pipeline show {run.id[:12]}",
        run=run,
    )


def dag(page: PageRequest) -> Response:
    """The run's DAG as ``pipeline show --html`` writes it (an SVG, no script), for the
    run's page to frame: only this dashboard may frame it, and it runs sandboxed."""
    from modelyard.pipelines import PipelineStore, render_run_html

    run = PipelineStore(page.ui.workspace).get_run(page.param("run_id"))
    return stored_page(render_run_html(run), scripts=False, framed=True)
