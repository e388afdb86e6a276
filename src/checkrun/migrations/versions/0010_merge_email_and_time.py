"""Merge the heads of issue 11: email digests and task deadlines (and the scheduler's)

Revision ID: 0010
Revises: 0009_notifier, 0009_deadlines
"""

from __future__ import annotations

revision = "0010"
down_revision = ("0009_notifier", "0009_deadlines")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
