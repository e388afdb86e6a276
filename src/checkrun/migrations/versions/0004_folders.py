"""Folders and the runs and tasks filed in them

Revision ID: 0004_folders
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_folders"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "folders",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("folder_type", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.String(length=32), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"],
                                name=op.f("fk_folders_org_id_organizations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_folders")),
    )
    op.create_index("ix_folders_org_type", "folders", ["org_id", "folder_type", "position"])
    op.create_index("ix_folders_parent_id", "folders", ["parent_id"])
    op.create_table(
        "folder_objects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("folder_id", sa.String(length=32), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("task_id", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"],
                                name=op.f("fk_folder_objects_org_id_organizations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["folder_id"], ["folders.id"],
                                name=op.f("fk_folder_objects_folder_id_folders"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"],
                                name=op.f("fk_folder_objects_run_id_runs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"],
                                name=op.f("fk_folder_objects_task_id_tasks"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_folder_objects")),
        sa.UniqueConstraint("folder_id", "subject_type", "subject_id",
                            name=op.f("uq_folder_objects_folder_id")),
    )
    for column in ("org_id", "folder_id", "run_id", "task_id"):
        op.create_index(f"ix_folder_objects_{column}", "folder_objects", [column])
    op.create_index("ix_folder_objects_subject", "folder_objects", ["subject_type", "subject_id"])


def downgrade() -> None:
    op.drop_table("folder_objects")
    op.drop_index("ix_folders_parent_id", table_name="folders")
    op.drop_index("ix_folders_org_type", table_name="folders")
    op.drop_table("folders")
