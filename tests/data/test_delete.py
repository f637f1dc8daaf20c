"""Deleting a dataset version: refused while a model version's lineage names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.workspace import Workspace


def _ingest(ws: Workspace, tmp_path: Path, rows: int) -> str:
    path = tmp_path / f"d{rows}.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(rows)))
    version, _ = ws.datasets.ingest(path, "d")
    return version.ref


def _register(ws: Workspace, tmp_path: Path, dataset: str) -> str:
    package = tmp_path / "pkg"
    package.mkdir(exist_ok=True)
    (package / "model.json").write_text("{}")
    version = ws.models.register(
        "m",
        package,
        task="binary",
        algorithm="xgboost",
        metrics={},
        params={},
        lineage={"dataset": dataset},
        flavors=["pipeline"],
    )
    return version.ref


def test_delete_refused_while_lineage_names_it(any_workspace: Workspace, tmp_path: Path) -> None:
    ws = any_workspace
    first = _ingest(ws, tmp_path, 10)
    second = _ingest(ws, tmp_path, 20)
    _register(ws, tmp_path, first)
    with pytest.raises(ConflictError, match=r"dataset d:1 is in the lineage of model m:1"):
        ws.datasets.delete(first)
    assert ws.datasets.get(first).ref == first
    data_digest = ws.datasets.get(second).data_digest
    assert ws.datasets.delete(second).ref == second
    with pytest.raises(NotFoundError):
        ws.datasets.get(second)
    # the content stays: content-addressed files are never deleted by a writer
    assert ws.artifacts.exists(data_digest)
    assert ws.datasets.delete(first, force=True).ref == first
    assert ws.datasets.list_versions("d") == []


def test_delete_needs_a_version_and_an_existing_one(workspace: Workspace, tmp_path: Path) -> None:
    _ingest(workspace, tmp_path, 10)
    with pytest.raises(InvalidInputError, match="name the version"):
        workspace.datasets.delete("d")
    with pytest.raises(NotFoundError, match="d:7"):
        workspace.datasets.delete("d:7")


def test_a_deleted_number_is_never_given_again(any_workspace: Workspace, tmp_path: Path) -> None:
    ws = any_workspace
    _ingest(ws, tmp_path, 10)
    newest = _ingest(ws, tmp_path, 20)
    assert newest == "d:2"
    ws.datasets.delete(newest, actor="alice")
    # the same bytes again are a new version: d:2 may be named somewhere, meaning them
    assert _ingest(ws, tmp_path, 20) == "d:3"
    ws.datasets.delete("d:1")
    ws.datasets.delete("d:3")
    assert ws.datasets.list_versions("d") == []
    assert _ingest(ws, tmp_path, 30) == "d:4"  # every version deleted, still no reuse
    # another name numbers on its own
    path = tmp_path / "e.csv"
    path.write_text("a\n1\n")
    assert ws.datasets.ingest(path, "e")[0].ref == "e:1"
