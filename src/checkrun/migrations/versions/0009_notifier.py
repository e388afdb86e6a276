"""Email: each address's daily digest schedule (when its next digest is due)

Revision ID: 0009_notifier
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from checkrun.db import UTCDateTime

revision = "0009_notifier"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_digest_schedule",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("org_id", sa.String(32),
                  sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("next_at", UTCDateTime(), nullable=False),
        sa.Column("last_sent_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("org_id", "email", name="uq_mail_digest_schedule_org_id"),
    )
    op.create_index("ix_mail_digest_schedule_next_at", "mail_digest_schedule", ["next_at"])


def downgrade() -> None:
    op.drop_index("ix_mail_digest_schedule_next_at", table_name="mail_digest_schedule")
    op.drop_table("mail_digest_schedule")
