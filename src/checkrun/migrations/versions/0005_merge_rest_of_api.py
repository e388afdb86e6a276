"""Joins the branches opened in parallel for the rest of the API (one head again)

Revision ID: 0005
Revises: the 0004 branches
"""

from __future__ import annotations

revision = "0005"
down_revision = (
    "0004_activity", "0004_comments", "0004_folders", "0004_groups", "0004_guests",
    "0004_listing_order", "0004_members", "0004_oauth", "0004_tags", "0004_webhooks",
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
