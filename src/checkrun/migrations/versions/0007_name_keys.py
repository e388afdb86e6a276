"""Tag titles and group names are unique whatever their case, for all of Unicode, alike on both
databases: a key computed in Python (kit/names.py) stored beside the name, unique per org

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from checkrun.kit.names import name_key

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _fill_keys(table: str, column: str, key: str) -> None:
    """Keys for the rows there are. Rows whose names already meet under the new key (possible
    before: SQLite folded ASCII only) keep their names; the later ones get a key that also holds
    their id, so the upgrade never fails and the first row keeps the name."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        f"SELECT id, org_id, {column} FROM {table} ORDER BY created_at, id")).all()
    seen: set[tuple[str, str]] = set()
    for row_id, org_id, name in rows:
        value = name_key(name)
        if (org_id, value) in seen:
            value = f"{value}#{row_id}"
        seen.add((org_id, value))
        conn.execute(sa.text(f"UPDATE {table} SET {key} = :key WHERE id = :id"),
                     {"key": value, "id": row_id})


def upgrade() -> None:
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title_key", sa.Text(), nullable=True))
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.Text(), nullable=True))
    _fill_keys("tags", "title", "title_key")
    _fill_keys("groups", "name", "name_key")
    op.drop_index("ix_tags_org_title", table_name="tags")
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.alter_column("title_key", existing_type=sa.Text(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_tags_org_id"), ["org_id", "title_key"])
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_groups_org_id"), type_="unique")
        batch_op.alter_column("name_key", existing_type=sa.Text(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_groups_org_id"), ["org_id", "name_key"])


def downgrade() -> None:
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_groups_org_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_groups_org_id"), ["org_id", "name"])
        batch_op.drop_column("name_key")
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_tags_org_id"), type_="unique")
        batch_op.drop_column("title_key")
    op.create_index("ix_tags_org_title", "tags", ["org_id", sa.text("lower(title)")],
                    unique=True)
