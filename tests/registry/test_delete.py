"""Deleting a model version: refused while an alias or an endpoint holds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.registry import ApprovalStatus
from modelyard.serving import VariantConfig
from modelyard.workspace import Workspace


def _register(ws: Workspace, tmp_path: Path, content: str) -> str:
    package = tmp_path / f"pkg-{content}"
    package.mkdir()
    (package / "model.json").write_text(f'{{"content": "{content}"}}')
    version = ws.models.register(
        "m",
        package,
        task="binary",
        algorithm="xgboost",
        metrics={},
        params={},
        lineage={},
        flavors=["pipeline"],
        status=ApprovalStatus.APPROVED,
    )
    return version.ref


def test_delete_refused_while_alias_or_endpoint_holds_it(
    any_workspace: Workspace, tmp_path: Path
) -> None:
    ws = any_workspace
    served, aliased, free = (_register(ws, tmp_path, c) for c in "abc")
    ws.endpoints.create("churn", [VariantConfig(name="main", model=served)])
    ws.models.set_alias(aliased, "production")
    with pytest.raises(ConflictError, match="model m:1 is held by endpoint churn"):
        ws.models.delete(served)
    with pytest.raises(ConflictError, match="model m:2 is held by alias production"):
        ws.models.delete(aliased)
    package = ws.models.get(free).package_digest
    assert ws.models.delete(free).ref == free
    with pytest.raises(NotFoundError):
        ws.models.get(free)
    assert ws.artifacts.exists(package)  # shared content is never deleted by a writer
    # the number of a deleted version is never given again
    assert _register(ws, tmp_path, "d") == "m:4"
    assert ws.models.delete(aliased, force=True).aliases == ["production"]
    with pytest.raises(NotFoundError, match="no alias 'production'"):
        ws.models.get("m:production")
    deleted = [e.version for e in ws.models.history("m") if e.kind == "deleted"]
    assert deleted == [3, 2]


def test_delete_needs_a_version_number(workspace: Workspace, tmp_path: Path) -> None:
    _register(workspace, tmp_path, "a")
    workspace.models.set_alias("m:1", "production")
    for ref in ("m", "m:production"):
        with pytest.raises(InvalidInputError, match="name the version number"):
            workspace.models.delete(ref)
    with pytest.raises(NotFoundError):
        workspace.models.delete("m:9")
