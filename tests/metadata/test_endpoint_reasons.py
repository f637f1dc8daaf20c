"""Migration 0012: an endpoint change's reason gets its own column, and the reasons
a guarded deployment packed into ``actor`` before are split out of it."""

from __future__ import annotations

import sqlalchemy as sa

from modelyard.metadata import MetadataStore


def test_packed_guard_reasons_move_out_of_actor(database_url: str) -> None:
    store = MetadataStore(database_url, auto_upgrade=False)
    try:
        store.upgrade("0011")
        with store.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO endpoints (id, name, config_version, config, created_at,"
                    " updated_at) VALUES (1, 'api', 3, '{}', CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)"
                )
            )
            for version, actor in (
                (1, "alice"),
                (2, "deploy guard 0123abcd: shift: 10% of traffic to c (m:2)"),
                (3, "deploy guard 0123abcd: rolled back: error rate alarm: c answered 3 of 20"),
            ):
                connection.execute(
                    sa.text(
                        "INSERT INTO endpoint_configs (endpoint_id, version, config, action,"
                        " actor, created_at) VALUES (1, :version, '{}', 'update', :actor,"
                        " CURRENT_TIMESTAMP)"
                    ),
                    {"version": version, "actor": actor},
                )
        store.upgrade("0012")
        assert store.revision() == "0012"
        with store.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT actor, reason FROM endpoint_configs ORDER BY version")
            ).all()
        assert [tuple(row) for row in rows] == [
            ("alice", None),
            ("deploy guard 0123abcd", "shift: 10% of traffic to c (m:2)"),
            ("deploy guard 0123abcd", "rolled back: error rate alarm: c answered 3 of 20"),
        ]
    finally:
        store.dispose()
