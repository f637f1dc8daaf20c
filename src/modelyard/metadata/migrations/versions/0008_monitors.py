"""Monitors and the windows each has checked (issue 19).

``monitor_windows`` holds one row per checked window, written in the same
transaction as the monitor's episode state, so a run killed part-way leaves only
whole windows behind and the next run checks just the rest.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "monitor_windows",
        sa.Column(
            "monitor",
            sa.String(200),
            sa.ForeignKey("monitors.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("window", sa.String(40), primary_key=True),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("violations", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("monitor_windows")
    op.drop_table("monitors")
