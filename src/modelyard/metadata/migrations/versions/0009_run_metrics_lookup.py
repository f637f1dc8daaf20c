"""An index on run_metrics (run_id, key, id) for a run's last value of one metric.

The dashboard sorts and filters 10,000 runs by a metric's last value (issue 18):
without this index each run's lookup reads every metric row of the run.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_run_metrics_lookup", "run_metrics", ["run_id", "key", "id"])


def downgrade() -> None:
    op.drop_index("ix_run_metrics_lookup", table_name="run_metrics")
