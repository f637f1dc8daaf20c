"""Datasets: every dataset, one dataset's versions, one version's schema and splits,
and the diff between two versions."""

from __future__ import annotations

from starlette.responses import Response

from modelyard.errors import NotFoundError
from modelyard.ui._context import PageRequest

__all__ = ["dataset_page", "datasets", "diff", "version_page"]


def datasets(page: PageRequest) -> Response:
    """Each dataset's newest version and how many versions it has."""
    versions = page.ui.workspace.datasets.list_versions()
    latest: dict[str, object] = {}
    counts: dict[str, int] = {}
    for version in versions:
        latest.setdefault(version.name, version)
        counts[version.name] = counts.get(version.name, 0) + 1
    return page.render(
        "datasets.html", title="Datasets", cli="modelyard data list", latest=latest, counts=counts
    )


def dataset_page(page: PageRequest) -> Response:
    """One dataset's versions, with a form to diff two of them."""
    name = page.param("name")
    versions = page.ui.workspace.datasets.list_versions(name)
    if not versions:
        raise NotFoundError(f"dataset {name!r} not found")
    return page.render(
        "dataset.html",
        title=f"Dataset {name}",
        cli=f"modelyard data list {name}",
        name=name,
        versions=versions,
    )


def version_page(page: PageRequest) -> Response:
    """One version: its schema and splits."""
    ref = f"{page.param('name')}:{page.param('version')}"
    version = page.ui.workspace.datasets.get(ref)
    return page.render(
        "dataset_version.html",
        title=f"Dataset {version.ref}",
        cli=f"modelyard data show {version.ref}",
        version=version,
    )


def diff(page: PageRequest) -> Response:
    """What changed between two versions (``?old=1&new=2``)."""
    name = page.param("name")
    old = f"{name}:{page.query_int('old', 1, low=1)}"
    new = f"{name}:{page.query_int('new', 1, low=1)}"
    result = page.ui.workspace.datasets.diff(old, new)
    return page.render(
        "dataset_diff.html",
        title=f"Diff {old} → {new}",
        cli=f"modelyard data diff {old} {new}",
        name=name,
        diff=result,
    )
