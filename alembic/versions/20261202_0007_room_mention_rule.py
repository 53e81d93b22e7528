"""room mention rule: a room's admin may keep @room to themself

Revision ID: 0007_room_mention_rule
Revises: 0006_conversations
Create Date: 2026-12-02 20:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007_room_mention_rule'
down_revision: str | None = '0006_conversations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'everyone_mentions_admin_only',
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_column('everyone_mentions_admin_only')
