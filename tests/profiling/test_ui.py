"""The dashboard's profile page, over HTTP from a real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelyard import Workspace
from modelyard.data import IngestOptions
from tests.profiling._tables import planted
from tests.ui.conftest import LiveUi, serve


@pytest.fixture
def live(workspace: Workspace) -> Iterator[LiveUi]:
    from modelyard.ui import standalone_app

    workspace.datasets.ingest_table(planted(500), "planted", IngestOptions(target="y", split=None))
    server = serve(standalone_app(workspace), "/ui/login")
    yield server
    server.stop()


def test_version_page_links_to_its_profile_report(live: LiveUi, workspace: Workspace) -> None:
    with live.client() as client:
        version_page = client.get("/ui/datasets/planted/1")
        assert version_page.status_code == 200
        assert 'href="/ui/datasets/planted/1/profile"' in version_page.text
        report = client.get("/ui/datasets/planted/1/profile")
        assert report.status_code == 200 and report.text.startswith("<!DOCTYPE html>")
        assert "target_leakage" in report.text
        stored = workspace.datasets.profile("planted:1").report_path.read_bytes()  # type: ignore[union-attr]
        # served as stored, with only the dashboard's empty icon added (no favicon 404);
        # compared as a flag: pytest's diff of two 5 MB pages would take minutes
        served_as_stored = report.content.replace(b'<link rel="icon" href="data:,">', b"", 1)
        same = served_as_stored == stored
        assert same, "the served profile report differs from the stored one"
        missing = client.get("/ui/datasets/planted/9/profile")
        assert missing.status_code == 404
