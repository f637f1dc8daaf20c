"""Indexes on runs (experiment_id, start_time) and (start_time) for the newest runs first.

The dashboard's runs table shows the newest 50 runs of an experiment (or of all):
without these indexes the database reads and sorts every run of the experiment
for each page (10,000 runs: most of the page's time, issue 18).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_runs_experiment_start", "runs", ["experiment_id", "start_time"])
    op.create_index("ix_runs_start_time", "runs", ["start_time"])


def downgrade() -> None:
    op.drop_index("ix_runs_start_time", table_name="runs")
    op.drop_index("ix_runs_experiment_start", table_name="runs")
