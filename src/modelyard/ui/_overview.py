"""Overview: what the workspace holds, what changed lately, endpoints, running jobs."""

from __future__ import annotations

from starlette.responses import Response

from modelyard.ui._context import PageRequest

__all__ = ["overview"]


def overview(page: PageRequest) -> Response:
    """Counts, the newest runs, model and dataset versions, endpoints with their
    monitors' open violations, and running jobs."""
    from modelyard.jobs import JobStatus

    workspace = page.ui.workspace
    runs = workspace.runs.search(limit=8)
    datasets = workspace.datasets.list_versions()
    models = workspace.models.names()
    recent_models, model_versions = workspace.models.page(limit=8)
    endpoints = workspace.endpoints.list()
    # an endpoint's health: the open violations of each monitor watching it
    health: dict[str, list[tuple[str, int]]] = {}
    for monitor in workspace.monitors.list():
        health.setdefault(monitor.endpoint, []).append((monitor.name, len(monitor.open_episodes)))
    jobs = workspace.jobs.list_jobs(status=JobStatus.RUNNING, limit=20)
    changes = sorted(
        [("run", r.start_time, r.name, f"/runs/{r.id}", r.status.value) for r in runs.runs]
        + [
            ("model", m.created_at, m.ref, f"/models/{m.name}/{m.version}", m.status.value)
            for m in recent_models
        ]
        + [
            ("dataset", d.created_at, d.ref, f"/datasets/{d.name}/{d.version}", f"{d.n_rows} rows")
            for d in sorted(datasets, key=lambda d: d.created_at, reverse=True)[:8]
        ],
        key=lambda change: str(change[1]),
        reverse=True,
    )[:12]
    counts = {
        "datasets": len({d.name for d in datasets}),
        "dataset versions": len(datasets),
        "runs": runs.total,
        "models": len(models),
        "model versions": model_versions,
        "endpoints": len(endpoints),
    }
    return page.render(
        "overview.html",
        title="Overview",
        cli="modelyard info",
        counts=counts,
        changes=changes,
        endpoints=endpoints,
        health=health,
        jobs=jobs,
        database=workspace.metadata.display_url,
    )
