"""join attempts per user

Joining a room the user was not in is counted, so guessing room names (and
reading their history) is rate-limited per user across worker processes.

Revision ID: 0004_join_attempts
Revises: 0003_login_failure_address_index
Create Date: 2026-12-02 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004_join_attempts'
down_revision: str | None = '0003_login_failure_address_index'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('join_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('join_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_join_attempts_user_time', ['user_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('join_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_join_attempts_user_time')

    op.drop_table('join_attempts')
