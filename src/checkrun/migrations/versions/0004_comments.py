"""Comments and issues (threads) on tasks and processes

Revision ID: 0004_comments
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_comments"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_type", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("sent_to", sa.JSON(), nullable=False),
        sa.Column("resolve_id", sa.String(length=32), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"],
                                name=op.f("fk_comments_org_id_organizations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"],
                                name=op.f("fk_comments_task_id_tasks"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"],
                                name=op.f("fk_comments_run_id_runs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    op.create_index("ix_comments_task_created", "comments", ["task_id", "created_at"])
    op.create_index("ix_comments_run_created", "comments", ["run_id", "created_at"])
    op.create_index("ix_comments_open_issues", "comments", ["label", "resolved_at", "task_id"])


def downgrade() -> None:
    op.drop_index("ix_comments_open_issues", table_name="comments")
    op.drop_index("ix_comments_run_created", table_name="comments")
    op.drop_index("ix_comments_task_created", table_name="comments")
    op.drop_table("comments")
