"""Snippets: reusable text ("text templates")

Revision ID: 0013_snippets
Revises: 0012_idempotency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from checkrun.db import UTCDateTime

revision = "0013_snippets"
down_revision = "0012_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snippets",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("org_id", sa.String(32), nullable=False),
        sa.Column("title", sa.String(250), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_snippets_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snippets")),
    )
    op.create_index("ix_snippets_org_id_created_at", "snippets", ["org_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_snippets_org_id_created_at", table_name="snippets")
    op.drop_table("snippets")
