"""Merge the heads of issue 11: email digests, task deadlines and the scheduler's reminders

Revision ID: 0010
Revises: 0009_notifier, 0009_deadlines, 0009_scheduler
"""

from __future__ import annotations

revision = "0010"
down_revision = ("0009_notifier", "0009_deadlines", "0009_scheduler")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
