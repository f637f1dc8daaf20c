"""The endpoint store on each metadata backend, and the router on its own."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from modelyard.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from modelyard.serving import VariantConfig, parse_variant, parse_weights
from modelyard.serving._router import VariantRouter
from modelyard.workspace import Workspace
from tests.serving.conftest import start_gateway


def _register(ws: Workspace, tmp_path: Path, n: int) -> None:
    for index in range(n):
        package = tmp_path / f"pkg{index}"
        package.mkdir()
        (package / "model.json").write_text(f'{{"n": {index}}}')
        ws.models.register(
            "m", package, task="binary", algorithm="x", metrics={}, params={}, lineage={},
            flavors=["pipeline"],
        )  # fmt: skip


def test_create_update_rollback_history(any_workspace: Workspace, tmp_path: Path) -> None:
    ws = any_workspace
    _register(ws, tmp_path, 3)
    ws.models.set_alias("m:2", "production")
    store = ws.endpoints
    created = store.create(
        "api", [parse_variant("m:1=9"), parse_variant("m:production=1")], capture_percent=5
    )
    assert [v.model for v in created.config.variants] == ["m:1", "m:2"]  # aliases resolved
    assert created.config.normalised_weights() == pytest.approx({"m-1": 0.9, "m-production": 0.1})
    with pytest.raises(AlreadyExistsError):
        store.create("api", [parse_variant("m:1")])
    updated = store.update("api", weights={"m:1": 0, "m-production": 1})
    assert updated.config_version == 2
    assert updated.config.normalised_weights() == {"m-1": 0.0, "m-production": 1.0}
    replaced = store.update(
        "api", variants=[parse_variant("m:3"), parse_variant("m:1", shadow=True)]
    )
    assert [v.name for v in replaced.config.shadows] == ["m-1-shadow"]
    back = store.rollback("api")
    assert back.config_version == 4 and back.config == updated.config
    again = store.rollback("api", to=1)
    assert again.config == created.config
    assert [h.action for h in store.history("api")] == [
        "create", "update", "update", "rollback", "rollback",
    ]  # fmt: skip
    assert store.versions() == {"api": 5}
    assert [e.name for e in store.list()] == ["api"]
    with pytest.raises(NotFoundError):
        store.rollback("api", to=99)
    deleted = store.delete("api")
    assert deleted.config_version == 6 and deleted.deleted_at is not None
    with pytest.raises(NotFoundError, match="deleted"):
        store.get("api")
    assert store.versions() == {}


def test_a_deleted_endpoint_keeps_its_history_and_its_name_can_be_reused(
    any_workspace: Workspace, tmp_path: Path
) -> None:
    ws = any_workspace
    _register(ws, tmp_path, 3)
    store = ws.endpoints
    store.create("api", [parse_variant("m:1")])
    store.update("api", variants=[parse_variant("m:2")])
    store.delete("api", actor="alice")
    history = store.history("api")
    assert [(h.version, h.action) for h in history] == [(1, "create"), (2, "update"), (3, "delete")]
    assert history[-1].actor == "alice"
    assert [v.model for v in history[-1].config.variants] == ["m:2"]  # what it served last
    assert store.list() == [] and store.versions() == {}
    [gone] = store.list(deleted=True)
    assert gone.name == "api" and gone.deleted_at is not None
    assert ws.metadata.counts()["endpoints"] == 0
    with pytest.raises(NotFoundError):
        store.update("api", weights={"m-2": 1})
    with pytest.raises(NotFoundError):
        store.rollback("api")
    with pytest.raises(NotFoundError):
        store.delete("api")
    # a model only a deleted endpoint named is free to delete
    assert ws.models.delete("m:2").ref == "m:2"
    # the name again: the same history goes on, with a version the gateway has not seen
    again = store.create("api", [parse_variant("m:3")])
    assert again.config_version == 4 and again.deleted_at is None
    assert [h.action for h in store.history("api")] == ["create", "update", "delete", "create"]
    assert store.versions() == {"api": 4}
    with pytest.raises(AlreadyExistsError):
        store.create("api", [parse_variant("m:3")])
    # a rollback never reaches back past the new create (m:2 is gone)
    with pytest.raises(ConflictError, match="created again at configuration 4"):
        store.rollback("api")
    with pytest.raises(ConflictError):
        store.rollback("api", to=2)
    store.update("api", variants=[parse_variant("m:1")])
    back = store.rollback("api")
    assert back.config_version == 6 and [v.model for v in back.config.variants] == ["m:3"]


def test_bad_configurations(workspace: Workspace, tmp_path: Path) -> None:
    _register(workspace, tmp_path, 1)
    store = workspace.endpoints
    with pytest.raises(InvalidInputError, match="at least one production"):
        store.create("x", [parse_variant("m:1", shadow=True)])
    with pytest.raises(InvalidInputError, match="all zero"):
        store.create("x", [parse_variant("m:1=0")])
    with pytest.raises(InvalidInputError, match="unique"):
        store.create("x", [VariantConfig("a", "m:1"), VariantConfig("a", "m:1")])
    with pytest.raises(InvalidInputError, match="between 0 and 100"):
        store.create("x", [parse_variant("m:1")], capture_percent=101)
    with pytest.raises(InvalidInputError, match="invalid endpoint name"):
        store.create("../x", [parse_variant("m:1")])
    with pytest.raises(NotFoundError, match="m:7"):
        store.create("x", [parse_variant("m:7")])
    store.create("x", [parse_variant("m:1")])
    with pytest.raises(ConflictError, match="no earlier"):
        store.rollback("x")
    with pytest.raises(InvalidInputError):
        parse_weights("a=1,b")
    with pytest.raises(InvalidInputError):
        parse_variant("m:1=lots")


def test_router_follows_weights_and_sticks() -> None:
    router = VariantRouter(["a", "b", "c"], [1, 0, 3], ["a", "b", "c"])
    counts = Counter(router.choose() for _ in range(8000))
    assert counts["b"] == 0 and 1700 < counts["a"] < 2300 and counts["c"] > 5700
    assert router.choose(target="b") == "b"
    with pytest.raises(InvalidInputError, match="zz"):
        router.choose(target="zz")
    sticky = {key: router.choose(sticky=key) for key in map(str, range(200))}
    assert all(router.choose(sticky=k) == v for k, v in sticky.items())
    assert set(sticky.values()) == {"a", "c"}


def test_token_guard() -> None:
    from modelyard.serving._auth import ForbiddenError, TokenGuard, UnauthorizedError
    from modelyard.serving._tokens import hash_token

    TokenGuard().check(None, "admin")  # no tokens: open
    guard = TokenGuard({hash_token("myd_a"): "admin", hash_token("myd_i"): "invoke"})
    guard.check("Bearer myd_a", "admin")
    guard.check("bearer myd_i", "invoke")
    with pytest.raises(ForbiddenError):
        guard.check("Bearer myd_i", "admin")
    for header in (None, "", "Bearer ", "Basic myd_a", "Bearer myd_x"):
        with pytest.raises(UnauthorizedError):
            guard.check(header, "invoke")


def test_concurrent_changes_lose_nothing(any_workspace: Workspace, tmp_path: Path) -> None:
    """Changes racing on one endpoint: each applies in full or is refused with a 409.

    Each update reads the configuration, then appends a new one: two at once both
    built on the same version (the later silently undid the earlier, or the second
    insert of that version failed with an internal IntegrityError on PostgreSQL).
    """
    ws = any_workspace
    _register(ws, tmp_path, 1)
    store = ws.endpoints
    store.create("api", [parse_variant("a@m:1"), parse_variant("b@m:1")])
    barrier = threading.Barrier(8)

    def change(index: int) -> str:
        barrier.wait()
        try:
            store.update("api", capture_percent=index + 1)
        except ConflictError:
            return "conflict"
        return "ok"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(change, range(8)))
    history = store.history("api")
    assert outcomes.count("ok") == len(history) - 1 >= 1
    assert [h.version for h in history] == list(range(1, len(history) + 1))
    # every applied change built on the one before it: no two from the same base
    assert store.get("api").config_version == len(history)


def test_endpoints_and_aliases_follow_one_approval_policy(tmp_path: Path) -> None:
    """Endpoints took pending and even rejected models while aliases refused them."""
    from modelyard.registry import ApprovalStatus

    with Workspace.init(tmp_path / "ws") as ws:
        _register(ws, tmp_path, 3)  # m:1 pending, m:2 approved, m:3 rejected
        ws.models.set_status("m:2", ApprovalStatus.APPROVED)
        ws.models.set_status("m:3", ApprovalStatus.REJECTED, reason="worse than the baseline")
        with pytest.raises(ConflictError, match=r"m:3 is rejected .*before deploying it"):
            ws.endpoints.create("e", [VariantConfig("a", "m:3")])
        with pytest.raises(ConflictError, match=r"m:3 is rejected .*before giving it an alias"):
            ws.models.set_alias("m:3", "production")
        ws.endpoints.create("e", [VariantConfig("a", "m:1")])  # pending: allowed by default
        with pytest.raises(ConflictError, match="rejected"):
            ws.endpoints.update("e", variants=[VariantConfig("b", "m:3")])
    with Workspace.open(tmp_path / "ws", require_approval=True) as ws:
        for attempt in (
            lambda: ws.endpoints.create("f", [VariantConfig("a", "m:1")]),
            lambda: ws.endpoints.update("e", variants=[VariantConfig("b", "m:1")]),
            lambda: ws.models.set_alias("m:1", "staging"),
        ):
            with pytest.raises(ConflictError, match=r"m:1 is pending approval.*model approve m:1"):
                attempt()
        live = start_gateway(ws)  # the same answer over HTTP
        try:
            with live.client() as client:
                for model in ("m:1", "m:3"):
                    spec = {"name": "g", "variants": [{"model": model}]}
                    refused = client.post("/api/endpoints", json=spec)
                    assert refused.status_code == 409, refused.text
                    assert f"model {model} is" in refused.json()["error"]["message"]
        finally:
            live.stop()
        ws.endpoints.create("f", [VariantConfig("a", "m:2")])
        assert ws.models.set_alias("m:2", "production").ref == "m:2"
