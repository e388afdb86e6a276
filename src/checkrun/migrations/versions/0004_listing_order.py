"""Indexes that serve the newest-first pages of runs and tasks in one scan

Revision ID: 0004_listing_order
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004_listing_order"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_runs_listing", table_name="runs")
    op.create_index("ix_runs_listing", "runs",
                    ["org_id", "deleted_at", "status", "created_at", "id"])
    op.create_index("ix_tasks_org_created", "tasks", ["org_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_org_created", table_name="tasks")
    op.drop_index("ix_runs_listing", table_name="runs")
    op.create_index("ix_runs_listing", "runs", ["org_id", "deleted_at", "status", "created_at"])
