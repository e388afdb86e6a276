"""workflow engine fields

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:07:46.497891
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('task_completions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('task_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_completions_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_completions')),
    sa.UniqueConstraint('task_id', 'user_id', name=op.f('uq_task_completions_task_id'))
    )
    with op.batch_alter_table('task_completions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_completions_task_id'), ['task_id'], unique=False)

    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=False, server_default='{}'))

    with op.batch_alter_table('checklists', schema=None) as batch_op:
        batch_op.add_column(sa.Column('folder_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('users', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('groups', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('automated_actions', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=False, server_default='{}'))

    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('users', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('groups', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('parent_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('prerun_completed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('prerun_completed_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=False, server_default='{}'))

    with op.batch_alter_table('steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('everyone_must_complete', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('can_complete_only_assignees', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('prevent_guest_comment', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('max_assignable', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('top_secret', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('skip_start_process', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('allow_guest_owners', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('start_date', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=False, server_default='{}'))

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_by_rule', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=False, server_default='{}'))



def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('settings')
        batch_op.drop_column('hidden_by_rule')

    with op.batch_alter_table('steps', schema=None) as batch_op:
        batch_op.drop_column('settings')
        batch_op.drop_column('start_date')
        batch_op.drop_column('allow_guest_owners')
        batch_op.drop_column('skip_start_process')
        batch_op.drop_column('top_secret')
        batch_op.drop_column('max_assignable')
        batch_op.drop_column('prevent_guest_comment')
        batch_op.drop_column('can_complete_only_assignees')
        batch_op.drop_column('everyone_must_complete')

    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('settings')
        batch_op.drop_column('prerun_completed_by')
        batch_op.drop_column('prerun_completed_at')
        batch_op.drop_column('parent_id')
        batch_op.drop_column('groups')
        batch_op.drop_column('users')

    with op.batch_alter_table('checklists', schema=None) as batch_op:
        batch_op.drop_column('settings')
        batch_op.drop_column('automated_actions')
        batch_op.drop_column('groups')
        batch_op.drop_column('users')
        batch_op.drop_column('folder_id')

    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.drop_column('settings')

    with op.batch_alter_table('task_completions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_completions_task_id'))

    op.drop_table('task_completions')
