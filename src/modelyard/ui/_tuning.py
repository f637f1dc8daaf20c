"""Tuning: the spot-checks' leaderboards and the tuning studies, newest first, each
with its HTML report (the one the search stored with its run)."""

from __future__ import annotations

from starlette.responses import Response

from modelyard.ui._context import PageRequest

__all__ = ["searches"]

_SHOWN = 50
# a search's own run (its children, one per algorithm or trial, carry other tags)
SPOTCHECKS = "tags.automl = 'spotcheck' and tags.metric != ''"
STUDIES = "tags.automl = 'tune'"


def searches(page: PageRequest) -> Response:
    """Spot-checks with their best algorithm and score, and studies with their best
    score and finished trials; each links to its leaderboard or study report."""
    from modelyard.automl._report import LEADERBOARD_ARTIFACT, STUDY_ARTIFACT

    runs = page.ui.workspace.runs
    spotchecks = runs.search(filter=SPOTCHECKS, limit=_SHOWN)
    studies = runs.search(filter=STUDIES, limit=_SHOWN)
    newest = sorted([*spotchecks.runs, *studies.runs], key=lambda r: r.start_time)[-1:]
    cli = "modelyard spotcheck DATASET"
    if newest:
        cli = f"modelyard runs list --experiment {newest[0].experiment}"
    return page.render(
        "tuning.html",
        title="Tuning",
        cli=cli,
        spotchecks=spotchecks,
        studies=studies,
        leaderboard=LEADERBOARD_ARTIFACT,
        study=STUDY_ARTIFACT,
    )
