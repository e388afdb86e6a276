"""Custom fields: the organization's keys and the values records hold for them; and
template-level threads (comments.checklist_id)

Revision ID: 0013_custom_fields
Revises: 0012_idempotency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from checkrun.db import UTCDateTime

revision = "0013_custom_fields"
down_revision = "0012_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custom_field_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "org_id",
            sa.String(32),
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("applies_to", sa.String(16), nullable=False),
        sa.Column("field_type", sa.String(16), nullable=False),
        sa.Column("key_type", sa.String(8), nullable=False),
        sa.Column("is_required", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("org_id", "key"),
    )
    op.create_table(
        "custom_field_values",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "org_id",
            sa.String(32),
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "key_id",
            sa.String(32),
            sa.ForeignKey("custom_field_keys.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("value_text", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("key_id", "subject_type", "subject_id"),
    )
    op.create_index("ix_custom_field_values_key_id", "custom_field_values", ["key_id"])
    op.create_index(
        "ix_custom_field_values_subject",
        "custom_field_values",
        ["org_id", "subject_type", "subject_id"],
    )
    op.create_index(
        "ix_custom_field_values_match",
        "custom_field_values",
        ["key_id", "subject_type", "value_text"],
    )
    # The table is rebuilt on SQLite, where a column can't be added with its foreign key.
    with op.batch_alter_table("comments", recreate="always") as batch:
        batch.add_column(
            sa.Column(
                "checklist_id",
                sa.String(32),
                sa.ForeignKey("checklists.id", ondelete="CASCADE"),
                nullable=True,
            )
        )
        batch.create_index("ix_comments_checklist_created", ["checklist_id", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("comments", recreate="always") as batch:
        batch.drop_index("ix_comments_checklist_created")
        batch.drop_column("checklist_id")
    op.drop_table("custom_field_values")
    op.drop_table("custom_field_keys")
