"""Template versions: frozen versions of a template, the version a run was launched from

Revision ID: 0013_template_versions
Revises: 0012_idempotency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from checkrun.db import UTCDateTime

revision = "0013_template_versions"
down_revision = "0012_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checklist_versions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "org_id",
            sa.String(32),
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "checklist_id",
            sa.String(32),
            sa.ForeignKey("checklists.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("checklist_id", "version"),
    )
    # Plain ALTER TABLE ADD COLUMN: a batch would rebuild `runs` on SQLite and lose its
    # counting triggers (0011).
    op.add_column(
        "checklists",
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )
    op.add_column(
        "checklists",
        sa.Column("is_published", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column(
        "runs", sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1"))
    )


def downgrade() -> None:
    op.drop_column("runs", "version")
    op.drop_column("checklists", "is_published")
    op.drop_column("checklists", "version")
    op.drop_table("checklist_versions")
