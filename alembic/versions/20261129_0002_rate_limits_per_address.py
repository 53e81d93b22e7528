"""rate limits per client address

Failed logins also record the client's address, and sign-up attempts are
kept per address, so both limits hold across worker processes.

Revision ID: 0002_rate_limits_per_address
Revises: 0001_initial_schema
Create Date: 2026-11-29 05:27:42.152538
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002_rate_limits_per_address'
down_revision: str | None = '0001_initial_schema'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('signup_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('signup_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_signup_attempts_address_time', ['client_address', 'created_at'], unique=False)

    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_address', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_login_failures_address_time', ['client_address', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_address_time')
        batch_op.drop_column('client_address')

    with op.batch_alter_table('signup_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_signup_attempts_address_time')

    op.drop_table('signup_attempts')
