"""A process task's frozen template version: the version whose frozen content holds its form
fields (null: its step's fields are read from the template's rows)

Revision ID: 0015_task_version
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_task_version"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on SQLite too: a batch rebuild of `tasks` would drop the counting
    # triggers of migration 0011.
    op.add_column("tasks", sa.Column("version", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("tasks", "version")
