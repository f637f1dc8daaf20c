"""Jobs: batch jobs with live progress, one job's partitions and errors, cancel."""

from __future__ import annotations

from starlette.responses import Response

from modelyard.ui._context import PageRequest

__all__ = ["cancel", "job_page", "jobs", "jobs_live"]


def jobs(page: PageRequest) -> Response:
    """The newest jobs; the table refreshes itself while a job runs."""
    found = page.ui.workspace.jobs.list_jobs(limit=100)
    return page.render("jobs.html", title="Jobs", cli="modelyard batch list", jobs=found)


def jobs_live(page: PageRequest) -> Response:
    """The jobs table alone, for the page's polling."""
    found = page.ui.workspace.jobs.list_jobs(limit=100)
    return page.fragment("jobs_table.html", jobs=found)


def job_page(page: PageRequest) -> Response:
    """One job: status, progress, error, partitions."""
    job = page.ui.workspace.jobs.get(page.param("job_id"))
    partitions = page.ui.workspace.jobs.partitions(job.id)
    return page.render(
        "job.html",
        title=f"Job {job.id[:8]}",
        cli=f"modelyard batch show {job.id[:8]}",
        job=job,
        partitions=partitions[:500],
    )


def cancel(page: PageRequest) -> Response:
    """Cancel the job (admin): a running job stops after the partitions in flight."""
    job = page.ui.workspace.jobs.cancel(page.param("job_id"))
    return page.redirect(f"/jobs/{job.id}")
