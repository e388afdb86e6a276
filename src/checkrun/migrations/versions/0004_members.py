"""Member profile fields, member status history and bot users; organization settings

Revision ID: 0004_members
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_members"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("job_title", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("job_description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("team", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("country_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("date_format", sa.String(length=16), nullable=False,
                                      server_default="mm/dd/yyyy"))
        batch_op.add_column(sa.Column("step_preferences", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("type", sa.String(length=16), nullable=False,
                                      server_default="member"))
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("disabled_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("disabled_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reactivated_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reactivated_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preferences", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("preferences")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        for name in ("updated_at", "reactivated_by", "reactivated_at", "disabled_by",
                     "disabled_at", "approved_at", "type"):
            batch_op.drop_column(name)
    with op.batch_alter_table("users", schema=None) as batch_op:
        for name in ("step_preferences", "date_format", "country_id", "team",
                     "job_description", "job_title", "phone"):
            batch_op.drop_column(name)
