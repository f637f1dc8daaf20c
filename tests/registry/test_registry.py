"""The registry: versions, aliases, approval history, verified packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.errors import ConflictError, IntegrityError, InvalidInputError, NotFoundError
from modelyard.registry import ApprovalStatus, ModelRef
from modelyard.workspace import Workspace


def _package(tmp_path: Path, content: str) -> Path:
    directory = tmp_path / f"pkg-{content}"
    directory.mkdir()
    (directory / "model.json").write_text(f'{{"content": "{content}"}}')
    return directory


def _register(ws: Workspace, tmp_path: Path, content: str, **kwargs: object) -> str:
    version = ws.models.register(
        "m",
        _package(tmp_path, content),
        task="binary",
        algorithm="xgboost",
        metrics={"auc": 0.8},
        params={"depth": 3},
        lineage={"dataset": "d:1"},
        flavors=["pipeline"],
        **kwargs,  # type: ignore[arg-type]
    )
    return version.ref


def test_versions_aliases_and_history(any_workspace: Workspace, tmp_path: Path) -> None:
    ws = any_workspace
    assert _register(ws, tmp_path, "a") == "m:1"
    assert _register(ws, tmp_path, "b") == "m:2"
    assert ws.models.get("m").version == 2 and ws.models.get("m:latest").version == 2
    ws.models.set_alias("m:1", "production")
    assert ws.models.get("m:production").version == 1
    ws.models.set_alias("m:2", "production", actor="bo")
    assert ws.models.get("m:production").version == 2
    assert ws.models.get("m:1").aliases == []
    ws.models.set_status("m:1", ApprovalStatus.REJECTED, "too slow", actor="ana")
    with pytest.raises(ConflictError, match="too slow"):
        ws.models.set_alias("m:1", "staging")
    events = ws.models.history("m")
    moves = [e.details for e in events if e.kind == "alias"]
    assert moves == [
        {"alias": "production", "from": None, "to": 1},
        {"alias": "production", "from": 1, "to": 2},
    ]
    rejected = next(e for e in events if e.kind == "rejected")
    assert rejected.actor == "ana" and rejected.details["reason"] == "too slow"
    ws.models.remove_alias("m", "production")
    with pytest.raises(NotFoundError, match="no alias 'production'"):
        ws.models.get("m:production")


def test_the_newest_events_and_a_page_with_its_aliases(
    any_workspace: Workspace, tmp_path: Path
) -> None:
    ws = any_workspace
    for content in "abcd":
        _register(ws, tmp_path, content)
    ws.models.set_alias("m:2", "production")
    ws.models.set_alias("m:2", "staging")
    ws.models.set_alias("m:4", "canary")
    every = ws.models.history("m")
    assert ws.models.history("m", last=3) == every[-3:]
    assert ws.models.history("m", last=100) == every
    with pytest.raises(InvalidInputError, match="last=0"):
        ws.models.history("m", last=0)
    with pytest.raises(NotFoundError, match="model nope not found"):
        ws.models.history("nope", last=3)
    shown, total = ws.models.page("m", 0, 3)
    assert total == 4 and [v.version for v in shown] == [4, 3, 2]
    assert [v.aliases for v in shown] == [["canary"], [], ["production", "staging"]]
    assert [v.aliases for v in ws.models.list_versions("m")] == [
        ["canary"],
        [],
        ["production", "staging"],
        [],
    ]


def test_tampered_package_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    ref = _register(workspace, tmp_path, "original")
    version = workspace.models.get(ref)
    stored = (
        Path(workspace.settings.resolved_artifact_url)
        / "sha256"
        / version.package_digest[:2]
        / version.package_digest
    )
    stored.write_bytes(stored.read_bytes().replace(b"original", b"modified"))
    with pytest.raises(IntegrityError):
        workspace.models.package_path(version)


@pytest.mark.parametrize("text", ["", "m:0", "m:latest:x", "../m", "m:production!"])
def test_bad_references(text: str) -> None:
    with pytest.raises(InvalidInputError):
        ModelRef.parse(text)


def test_unknown_model(workspace: Workspace) -> None:
    with pytest.raises(NotFoundError, match="model ghost not found"):
        workspace.models.get("ghost:1")
