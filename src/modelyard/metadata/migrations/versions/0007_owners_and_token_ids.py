"""Runs record their owner process; API token ids are never reused on SQLite.

``runs.owner`` (``host:pid``) lets a reader tell a run whose process died (kill -9)
from one still running. On SQLite a table without ``AUTOINCREMENT`` hands the
highest id out again once its row is deleted, so a revoked token's id named the
next token; the table is rebuilt with it (PostgreSQL's sequences never reuse).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("owner", sa.String(200), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "api_tokens", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("owner")
