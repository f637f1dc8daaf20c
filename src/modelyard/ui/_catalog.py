"""The dashboard's pages, in menu order: the one list a capability adds its pages to."""

from __future__ import annotations

from modelyard.ui import (
    _datasets,
    _endpoints,
    _jobs,
    _login,
    _models,
    _monitors,
    _overview,
    _pipelines,
    _profiles,
    _runs,
    _tuning,
)
from modelyard.ui._pages import Page

_POST = ("POST",)

__all__ = ["PAGES"]

PAGES: tuple[Page, ...] = (
    Page("overview", "/", _overview.overview, "Overview"),
    Page("runs", "/runs", _runs.runs_table, "Runs"),
    Page("run-compare", "/runs/compare", _runs.compare),
    Page("run", "/runs/{run_id}", _runs.run_page),
    Page("run-report", "/runs/{run_id}/reports/{name:path}", _runs.report),
    Page("tuning", "/tuning", _tuning.searches, "Tuning"),
    Page("models", "/models", _models.models, "Models"),
    Page("model", "/models/{name}", _models.model_page),
    Page("model-version", "/models/{name}/{version:int}", _models.version_page),
    Page("model-report", "/models/{name}/{version:int}/report", _models.report),
    Page("model-status", "/models/{name}/{version:int}/status", _models.set_status, None, _POST),
    Page("model-alias", "/models/{name}/{version:int}/alias", _models.set_alias, None, _POST),
    Page("datasets", "/datasets", _datasets.datasets, "Datasets"),
    Page("dataset-diff", "/datasets/{name}/diff", _datasets.diff),
    Page("dataset", "/datasets/{name}", _datasets.dataset_page),
    Page("dataset-version", "/datasets/{name}/{version:int}", _datasets.version_page),
    Page("dataset-profile", "/datasets/{name}/{version:int}/profile", _profiles.profile),
    Page("endpoints", "/endpoints", _endpoints.endpoints, "Endpoints"),
    Page("endpoint", "/endpoints/{name}", _endpoints.endpoint_page),
    Page("endpoint-live", "/endpoints/{name}/live", _endpoints.live),
    Page("endpoint-rollback", "/endpoints/{name}/rollback", _endpoints.rollback, None, _POST),
    Page("monitors", "/monitors", _monitors.monitors, "Monitors"),
    Page("monitor", "/monitors/{name}", _monitors.monitor_page),
    Page("pipelines", "/pipelines", _pipelines.pipelines, "Pipelines"),
    Page("pipeline-run", "/pipelines/runs/{run_id}", _pipelines.pipeline_run),
    Page("pipeline-dag", "/pipelines/runs/{run_id}/dag", _pipelines.dag),
    Page("jobs", "/jobs", _jobs.jobs, "Jobs"),
    Page("jobs-live", "/jobs/live", _jobs.jobs_live),
    Page("job", "/jobs/{job_id}", _jobs.job_page),
    Page("job-cancel", "/jobs/{job_id}/cancel", _jobs.cancel, None, _POST),
    Page("login", "/login", _login.login_form, open=True),
    Page("login-submit", "/login", _login.login, None, _POST, open=True),
    Page("logout", "/logout", _login.logout, None, _POST, open=True),
)
