"""Merge the heads of issue 13: custom fields, template versions and snippets

Revision ID: 0014
Revises: 0013_custom_fields, 0013_template_versions, 0013_snippets
"""

from __future__ import annotations

revision = "0014"
down_revision = ("0013_custom_fields", "0013_template_versions", "0013_snippets")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
