"""Activity feed entries

Revision ID: 0004_activity
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_activity"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_activity_feeds_org_created": ["org_id", "created_at", "id"],
    "ix_activity_feeds_org_run": ["org_id", "run_id", "created_at"],
    "ix_activity_feeds_org_task": ["org_id", "task_id"],
    "ix_activity_feeds_org_checklist": ["org_id", "checklist_id"],
    "ix_activity_feeds_org_entity": ["org_id", "entity_type", "entity_id"],
    "ix_activity_feeds_org_actor": ["org_id", "actor_type", "actor_id"],
}


def upgrade() -> None:
    op.create_table(
        "activity_feeds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("verb", sa.String(length=32), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("actor_type", sa.String(length=8), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sa.String(length=254), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("field", sa.String(length=100), nullable=True),
        sa.Column("old_value", sa.JSON(), nullable=True),
        sa.Column("new_value", sa.JSON(), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("task_id", sa.String(length=32), nullable=True),
        sa.Column("checklist_id", sa.String(length=32), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"],
                                name=op.f("fk_activity_feeds_org_id_organizations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_feeds")),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "activity_feeds", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="activity_feeds")
    op.drop_table("activity_feeds")
