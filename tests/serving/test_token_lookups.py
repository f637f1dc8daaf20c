"""TokenStore.has_tokens and find: the dashboard's per-request questions, answered by
one row, agree with the full snapshot the gateway reads (list, credentials)."""

from __future__ import annotations

from modelyard.serving import TokenStore
from modelyard.workspace import Workspace


def test_has_tokens_follows_every_create_and_revoke(any_workspace: Workspace) -> None:
    tokens = TokenStore(any_workspace.metadata)
    assert not tokens.has_tokens()
    key, _ = tokens.create("boto", "invoke", sigv4=True)
    assert tokens.has_tokens()  # a SigV4 key alone closes the workspace too
    bearer, _ = tokens.create("ops", "admin")
    tokens.revoke(key.id)
    assert tokens.has_tokens()
    tokens.revoke(bearer.id)
    assert not tokens.has_tokens()  # revoked rows stay, and open nothing
    assert tokens.has_tokens() == bool(tokens.list()) == any(tokens.credentials())


def test_find_names_a_live_bearer_token_only(any_workspace: Workspace) -> None:
    tokens = TokenStore(any_workspace.metadata)
    info, secret = tokens.create("ops", "admin")
    other, other_secret = tokens.create("app", "invoke")
    _, key_secret = tokens.create("boto", "admin", sigv4=True)
    listed = {token.id: token for token in tokens.list()}  # created_at as stored
    assert tokens.find(secret) == listed[info.id]
    assert tokens.find(other_secret) == listed[other.id]
    assert (info.name, info.scope, other.name, other.scope) == ("ops", "admin", "app", "invoke")
    assert tokens.find(secret + "x") is None
    assert tokens.find("") is None
    # a SigV4 secret signs requests; it is no bearer token, so it opens no login
    assert tokens.find(key_secret) is None
    assert key_secret not in tokens.credentials()[0].values()
    tokens.revoke(info.id)
    assert tokens.find(secret) is None
    assert tokens.find(other_secret) == listed[other.id]
