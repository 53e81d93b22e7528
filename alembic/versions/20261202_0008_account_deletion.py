"""account deletion: users.deleted_at

A deleted account keeps its row (its messages stay, shown as from
"Deleted user") and its name stays taken.

Revision ID: 0008_account_deletion
Revises: 0007_room_mention_rule
Create Date: 2026-12-02 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008_account_deletion'
down_revision: str | None = '0007_room_mention_rule'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
