"""Writers that store the same content at the same moment never take it from each other.

Artifacts are addressed by content, so two writers of the same bytes share one file.
A writer that loses the database race must leave that file alone: the winner's
committed version points at it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from modelyard.artifacts import FsspecArtifactStore
from modelyard.data import DatasetStore, DatasetVersion
from modelyard.registry import ModelRegistry, ModelVersion
from modelyard.workspace import Workspace
from tests._packages import register_stand_in, stand_in_package

_TIMEOUT = 60


class _MeetBeforeStoring(FsspecArtifactStore):
    """Holds each writer inside ``put_file``/``put_bytes`` until every writer is
    there, so all of them have checked for and are about to store the same content
    before any of them records it in the database."""

    def __init__(self, url: str, barrier: threading.Barrier, meet_in: str) -> None:
        super().__init__(url)
        self._barrier = barrier
        self._meet_in = meet_in

    def put_file(self, path: str | Path) -> str:
        if self._meet_in == "put_file":
            self._barrier.wait(_TIMEOUT)
        return super().put_file(path)

    def put_bytes(self, data: bytes) -> str:
        if self._meet_in == "put_bytes":
            self._barrier.wait(_TIMEOUT)
        return super().put_bytes(data)


def test_the_loser_of_an_ingest_race_keeps_the_winners_data(
    any_workspace: Workspace, tmp_path: Path
) -> None:
    source = tmp_path / "same.csv"
    pd.DataFrame({"x": range(300), "y": [i % 3 for i in range(300)]}).to_csv(source, index=False)
    writers = 2
    artifacts = _MeetBeforeStoring(
        any_workspace.settings.resolved_artifact_url, threading.Barrier(writers), "put_file"
    )
    datasets = DatasetStore(any_workspace.metadata, artifacts)

    def ingest(_: int) -> tuple[DatasetVersion, bool]:
        return datasets.ingest(source, "shared")

    with ThreadPoolExecutor(writers) as pool:
        results = list(pool.map(ingest, range(writers)))

    assert sorted(created for _, created in results) == [False, True]
    assert {version.ref for version, _ in results} == {"shared:1"}
    assert [v.ref for v in any_workspace.datasets.list_versions("shared")] == ["shared:1"]
    table = any_workspace.datasets.read("shared:1")
    assert table.num_rows == 300 and table.column("x").to_pylist() == list(range(300))
    assert any_workspace.datasets.read("shared:1", split="train").num_rows > 0


def test_registrations_of_one_package_keep_it(any_workspace: Workspace, tmp_path: Path) -> None:
    package = stand_in_package(tmp_path / "package", {"content": "shared"})
    writers = 4
    artifacts = _MeetBeforeStoring(
        any_workspace.settings.resolved_artifact_url, threading.Barrier(writers), "put_bytes"
    )
    registry = ModelRegistry(any_workspace.metadata, artifacts)

    def register(_: int) -> ModelVersion:
        return register_stand_in(registry, "shared", package)

    with ThreadPoolExecutor(writers) as pool:
        versions = list(pool.map(register, range(writers)))

    assert sorted(v.version for v in versions) == list(range(1, writers + 1))
    assert len({v.package_digest for v in versions}) == 1
    for version in any_workspace.models.list_versions("shared"):
        assert (any_workspace.models.package_path(version) / "model.json").is_file()
