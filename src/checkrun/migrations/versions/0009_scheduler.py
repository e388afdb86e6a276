"""The scheduler: its job leases, the reminder columns of tasks, and the indexes of its jobs

Revision ID: 0009_scheduler
Revises: 0008
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

from checkrun.db import UTCDateTime
from checkrun.kit.clock import now

revision = "0009_scheduler"
down_revision = "0008"
branch_labels = None
depends_on = None

OPEN_LIVE = "status IN ('not-started', 'active', 'in-progress') AND deleted_at IS NULL"
EXPIRING = f"task_type IN ('expiring', 'expiring_email') AND {OPEN_LIVE}"
# The defaults every organization has until an admin changes them.
DUE_SOON_LEAD = timedelta(hours=24)


def _partial(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(name, table, columns, sqlite_where=sa.text(where),
                    postgresql_where=sa.text(where))


def upgrade() -> None:
    op.create_table(
        "scheduler_jobs",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
    )
    for column in ("remind_at", "reminded_soon_for", "reminded_overdue_for"):
        op.add_column("tasks", sa.Column(column, UTCDateTime(), nullable=True))
    _schedule_open_tasks()
    _partial("ix_tasks_remind_at", "tasks", ["remind_at"], "remind_at IS NOT NULL")
    _partial("ix_tasks_expiring_deadline", "tasks", ["deadline"], EXPIRING)
    _partial("ix_tasks_open_deadline", "tasks", ["org_id", "deadline"], OPEN_LIVE)
    op.create_index("ix_runs_org_status_completed", "runs", ["org_id", "status", "completed_at"])


def _schedule_open_tasks() -> None:
    """Open tasks get their next reminder; those already past their deadline count as reminded,
    so that an upgrade does not send an overdue email for every old task at once."""
    conn = op.get_bind()
    tasks = sa.table("tasks", sa.column("id", sa.String()), sa.column("deadline", UTCDateTime()),
                     sa.column("remind_at", UTCDateTime()),
                     sa.column("reminded_soon_for", UTCDateTime()),
                     sa.column("reminded_overdue_for", UTCDateTime()))
    rows = conn.execute(sa.select(tasks.c.id, tasks.c.deadline)
                        .where(sa.text(OPEN_LIVE), tasks.c.deadline.is_not(None))).all()
    moment = now()
    late = [{"task_id": i, "at": d} for i, d in rows if d <= moment]
    ahead = [{"task_id": i, "at": d - DUE_SOON_LEAD} for i, d in rows if d > moment]
    by_id = tasks.c.id == sa.bindparam("task_id")
    if late:
        conn.execute(tasks.update().where(by_id).values(
            reminded_soon_for=sa.bindparam("at"), reminded_overdue_for=sa.bindparam("at")), late)
    if ahead:
        conn.execute(tasks.update().where(by_id).values(remind_at=sa.bindparam("at")), ahead)


def downgrade() -> None:
    op.drop_index("ix_runs_org_status_completed", table_name="runs")
    for name in ("ix_tasks_open_deadline", "ix_tasks_expiring_deadline", "ix_tasks_remind_at"):
        op.drop_index(name, table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        for column in ("reminded_overdue_for", "reminded_soon_for", "remind_at"):
            batch.drop_column(column)
    op.drop_table("scheduler_jobs")
