"""Why an endpoint changed: ``endpoint_configs.reason`` beside who changed it.

A guarded deployment's shifts, promotion and rollback carry their reason (the
alarm that fired, the evidence that let the candidate through). It used to be
packed into ``actor`` (``deploy guard ID: rolled back: error rate alarm ...``, cut
at the column's 200 characters); now ``actor`` names who (``deploy guard ID``) and
``reason`` says why, in full. Entries written that way before are split the same.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_GUARD = "deploy guard "


def upgrade() -> None:
    # a nullable column without a default: a plain ALTER TABLE on SQLite and PostgreSQL
    op.add_column("endpoint_configs", sa.Column("reason", sa.Text(), nullable=True))
    configs = sa.table(
        "endpoint_configs",
        sa.column("id", sa.Integer()),
        sa.column("actor", sa.String(200)),
        sa.column("reason", sa.Text()),
    )
    connection = op.get_bind()
    packed = connection.execute(
        sa.select(configs.c.id, configs.c.actor).where(configs.c.actor.like(f"{_GUARD}%: %"))
    ).all()
    for row_id, actor in packed:
        who, _, why = actor.partition(": ")
        connection.execute(
            sa.update(configs).where(configs.c.id == row_id).values(actor=who, reason=why)
        )


def downgrade() -> None:
    # SQLite drops a column only by rebuilding the table: batch mode does that
    with op.batch_alter_table("endpoint_configs") as batch:
        batch.drop_column("reason")
