"""Indexes for the pages of live runs, newest first, by status and without one: PostgreSQL
does not take `deleted_at IS NULL` as an equality, so `ix_runs_listing` could not give it that
order and each page sorted every live run of the organization

Revision ID: 0016_live_run_listing
Revises: 0015_task_version
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_live_run_listing"
down_revision = "0015_task_version"
branch_labels = None
depends_on = None

LIVE = sa.text("deleted_at IS NULL")


def upgrade() -> None:
    for name, columns in (
        ("ix_runs_live_by_status", ["org_id", "status", "created_at", "id"]),
        ("ix_runs_live_newest", ["org_id", "created_at", "id"]),
    ):
        op.create_index(name, "runs", columns, postgresql_where=LIVE, sqlite_where=LIVE)


def downgrade() -> None:
    op.drop_index("ix_runs_live_newest", table_name="runs")
    op.drop_index("ix_runs_live_by_status", table_name="runs")
