"""ModelRegistry.page, names and exists: a model's versions a page at a time, and the
models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelyard.errors import InvalidInputError, NotFoundError
from modelyard.workspace import Workspace


def _register(ws: Workspace, name: str, package: Path, count: int) -> None:
    for index in range(count):
        ws.models.register(
            name,
            package,
            task="binary",
            algorithm="xgboost",
            metrics={"auc": index / 100},
            params={},
            lineage={},
            flavors=["pipeline"],
        )


def test_pages_hold_every_version_once_newest_first(
    any_workspace: Workspace, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    package.mkdir()
    (package / "model.json").write_text(json.dumps({"task": "binary"}))
    _register(any_workspace, "alpha", package, 7)
    _register(any_workspace, "beta", package, 2)
    registry = any_workspace.models
    registry.set_alias("alpha:6", "production")
    seen = []
    for offset in (0, 3, 6):
        versions, total = registry.page("alpha", offset, 3)
        assert total == 7
        seen.extend(v.version for v in versions)
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    assert registry.page("alpha", 0, 3)[0][1].aliases == ["production"]
    every, total = registry.page(limit=4)
    assert total == 9 and [v.ref for v in every] == ["beta:2", "beta:1", "alpha:7", "alpha:6"]
    assert registry.names() == {"alpha": 7, "beta": 2}
    with pytest.raises(NotFoundError, match="model gamma not found"):
        registry.page("gamma")
    with pytest.raises(InvalidInputError, match="a page holds"):
        registry.page("alpha", -1)
    with pytest.raises(InvalidInputError, match="a page holds"):
        registry.page("alpha", 0, 501)


def test_exists_agrees_with_names(any_workspace: Workspace, tmp_path: Path) -> None:
    package = tmp_path / "package"
    package.mkdir()
    (package / "model.json").write_text(json.dumps({"task": "binary"}))
    registry = any_workspace.models
    assert not registry.exists("alpha")
    _register(any_workspace, "alpha", package, 1)
    _register(any_workspace, "beta", package, 2)
    registry.delete("alpha:1")
    asked = ["alpha", "beta", "gamma", "", "ALPHA", "alpha:1"]
    assert [name for name in asked if registry.exists(name)] == ["alpha", "beta"]
    assert set(registry.names()) == {"alpha", "beta"}  # alpha, its versions all deleted
