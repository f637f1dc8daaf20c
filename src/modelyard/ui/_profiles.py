"""A dataset version's profile in the dashboard: the stored HTML report itself.

The report is self-contained (Plotly embedded once), so the page serves it as it
is, like a model's evaluation report. Profiling a version the first time stores
the report; every later visit reads the stored one.
"""

from __future__ import annotations

from starlette.responses import Response

from modelyard.errors import NotFoundError
from modelyard.ui._context import PageRequest
from modelyard.ui._stored import stored_page

__all__ = ["profile"]


def profile(page: PageRequest) -> Response:
    """The profile report of ``/datasets/{name}/{version}``."""
    ref = f"{page.param('name')}:{page.param('version')}"
    result = page.ui.workspace.datasets.profile(ref)
    if result.report_path is None:
        raise NotFoundError(f"dataset {ref} has no stored profile report")
    return stored_page(result.report_path.read_bytes())
