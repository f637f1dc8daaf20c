"""Deletion that forgets nothing: endpoints keep their history, dataset numbers stay taken.

``endpoints.deleted_at`` marks a deleted endpoint: its row and configuration
history stay (``endpoint history`` shows the deletion), the gateway and
``endpoint list`` skip it, and creating the name again continues the same history.

``dataset_deletions`` records each deleted dataset version, so the next ingest
numbers past it: ``name:N`` never comes to mean other data (issue 17).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a nullable column without a default: a plain ALTER TABLE on SQLite and PostgreSQL
    op.add_column("endpoints", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "dataset_deletions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_dataset_deletion"),
    )


def downgrade() -> None:
    op.drop_table("dataset_deletions")
    # SQLite drops a column only by rebuilding the table: batch mode does that
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_column("deleted_at")
