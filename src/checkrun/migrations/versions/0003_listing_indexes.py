"""Indexes for member task lists and paged run lists

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_task_owners_kind_ref", table_name="task_owners")
    op.create_index("ix_task_owners_kind_ref_task", "task_owners", ["kind", "ref", "task_id"])
    op.drop_index("ix_runs_org_deleted_status", table_name="runs")
    op.create_index("ix_runs_listing", "runs", ["org_id", "deleted_at", "status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_listing", table_name="runs")
    op.create_index("ix_runs_org_deleted_status", "runs", ["org_id", "deleted_at", "status"])
    op.drop_index("ix_task_owners_kind_ref_task", table_name="task_owners")
    op.create_index("ix_task_owners_kind_ref", "task_owners", ["kind", "ref"])
