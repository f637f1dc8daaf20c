"""Versioned datasets.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("data_digest", sa.String(64), nullable=False),
        sa.Column("splits_digest", sa.String(64), nullable=True),
        sa.Column("n_rows", sa.BigInteger(), nullable=False),
        sa.Column("n_columns", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_format", sa.String(20), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("split_spec", sa.JSON(), nullable=True),
        sa.Column("split_counts", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_dataset_name_version"),
        sa.UniqueConstraint("name", "fingerprint", name="uq_dataset_name_fingerprint"),
    )
    op.create_index("ix_dataset_versions_name", "dataset_versions", ["name"])


def downgrade() -> None:
    op.drop_index("ix_dataset_versions_name", table_name="dataset_versions")
    op.drop_table("dataset_versions")
