"""Tags and their links to templates, runs and tasks

Revision ID: 0004_tags
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_tags"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=30), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=True),
        sa.Column("auto_generated", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"],
                                name=op.f("fk_tags_org_id_organizations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
    )
    op.create_index("ix_tags_org_title", "tags", ["org_id", sa.text("lower(title)")],
                    unique=True)
    op.create_table(
        "tag_associations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("tag_id", sa.String(length=32), nullable=False),
        sa.Column("tag_type", sa.String(length=8), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("checklist_id", sa.String(length=32), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("task_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"],
                                name=op.f("fk_tag_associations_org_id_organizations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"],
                                name=op.f("fk_tag_associations_tag_id_tags"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["checklist_id"], ["checklists.id"],
                                name=op.f("fk_tag_associations_checklist_id_checklists"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"],
                                name=op.f("fk_tag_associations_run_id_runs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"],
                                name=op.f("fk_tag_associations_task_id_tasks"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_associations")),
        sa.UniqueConstraint("tag_id", "subject_type", "subject_id",
                            name=op.f("uq_tag_associations_tag_id")),
    )
    for column in ("org_id", "tag_id", "checklist_id", "run_id", "task_id"):
        op.create_index(f"ix_tag_associations_{column}", "tag_associations", [column])
    op.create_index("ix_tag_associations_subject", "tag_associations",
                    ["subject_type", "subject_id"])


def downgrade() -> None:
    op.drop_table("tag_associations")
    op.drop_index("ix_tags_org_title", table_name="tags")
    op.drop_table("tags")
