"""login failure index per username and address

The per-username login limit now counts each client address apart, so its
read filters on (username_key, client_address) and takes the newest rows by
created_at. The three-column index keeps that read at most
login_max_failures index entries; it also serves every read the old
(username_key, created_at) index did, which is dropped.

Revision ID: 0003_login_failure_address_index
Revises: 0002_rate_limits_per_address
Create Date: 2026-12-02 00:00:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0003_login_failure_address_index'
down_revision: str | None = '0002_rate_limits_per_address'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_key_address_time', ['username_key', 'client_address', 'created_at'], unique=False)
        batch_op.drop_index('ix_login_failures_key_time')


def downgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_key_time', ['username_key', 'created_at'], unique=False)
        batch_op.drop_index('ix_login_failures_key_address_time')
