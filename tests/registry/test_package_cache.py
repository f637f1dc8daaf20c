"""The local cache of unpacked packages: reused while in use, removed once idle."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from modelyard.registry._archive import IDLE_DAYS, evict_idle
from modelyard.workspace import Workspace

DAY = 86_400


def _age(path: Path, days: float) -> None:
    moment = time.time() - days * DAY
    os.utime(path, (moment, moment))


@pytest.fixture
def cached_workspace(tmp_path: Path) -> Workspace:
    """A workspace with three registered packages (its cache is its own folder)."""
    ws = Workspace.init(tmp_path / "ws")
    for content in ("a", "b", "c"):
        package = tmp_path / f"pkg-{content}"
        package.mkdir()
        (package / "model.json").write_text(f'{{"content": "{content}"}}')
        ws.models.register(
            "m",
            package,
            task="binary",
            algorithm="xgboost",
            metrics={},
            params={},
            lineage={},
            flavors=["pipeline"],
        )
    return ws


def test_a_package_idle_for_a_week_goes_when_another_is_unpacked(
    cached_workspace: Workspace, tmp_path: Path
) -> None:
    ws = cached_workspace
    first, second = ws.models.package_path("m:1"), ws.models.package_path("m:2")
    assert first.parent == ws.settings.state_dir / "packages"
    _age(first / ".complete", IDLE_DAYS + 1)
    _age(second / ".complete", IDLE_DAYS - 1)
    third = ws.models.package_path("m:3")  # a new unpack sweeps the cache
    assert not first.exists()
    assert (second / "model.json").exists() and (third / "model.json").exists()
    again = ws.models.package_path("m:1")  # fetched and unpacked afresh, verified
    assert again == first and (again / "model.json").read_text() == '{"content": "a"}'


def test_every_use_marks_the_package_as_used(cached_workspace: Workspace) -> None:
    ws = cached_workspace
    marker = ws.models.package_path("m:2") / ".complete"
    _age(marker, IDLE_DAYS - 1)
    ws.models.package_path("m:2")
    assert time.time() - marker.stat().st_mtime < 60
    ws.models.package_path("m:3")
    assert marker.exists()  # used just now: kept


def test_the_sweep_spares_fresh_and_foreign_folders(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for name in ("idle", "fresh", "kept"):
        (cache / name).mkdir(parents=True)
        (cache / name / ".complete").touch()
        _age(cache / name / ".complete", 0 if name == "fresh" else IDLE_DAYS + 1)
    (cache / "unpack-dead").mkdir()  # a process died mid-unpack long ago
    _age(cache / "unpack-dead", IDLE_DAYS + 1)
    (cache / "unpack-live").mkdir()  # another process unpacking now
    (cache / "evicting-0123").mkdir()  # an eviction that died midway
    (cache / "foreign").mkdir()  # no marker: not a package this cache made
    (cache / "note.txt").write_text("not a folder")

    removed = evict_idle(cache, keep="kept")

    assert sorted(removed) == ["idle", "unpack-dead"]
    assert sorted(p.name for p in cache.iterdir()) == [
        "foreign",
        "fresh",
        "kept",
        "note.txt",
        "unpack-live",
    ]


def test_a_missing_cache_has_nothing_to_sweep(tmp_path: Path) -> None:
    assert evict_idle(tmp_path / "absent") == []
