"""Pipelines: saved definitions and the per-step result cache (issue 23).

``pipeline_cache`` maps a step's cache key (a hash of its kind, code version,
parameters and the content ids of its inputs) to the outputs it produced, so a
later run with the same key reuses them instead of running the step.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipelines",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "pipeline_cache",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("pipeline", sa.String(200), nullable=False),
        sa.Column("step", sa.String(200), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pipeline_cache")
    op.drop_table("pipelines")
