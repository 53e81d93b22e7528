"""conversations: direct messages, mentions, per-room notification levels

A direct conversation is a room of kind "direct" whose ``name_key`` names
its set of people; existing rooms are of kind "room". Every membership gets
the level "all" (today's behaviour). ``mentions`` records who a message
names, written in the message's transaction.

Revision ID: 0006_conversations
Revises: 0005_message_changes
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006_conversations'
down_revision: str | None = '0005_message_changes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('kind', sa.String(length=10), server_default='room', nullable=False)
        )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('notify_level', sa.String(length=10), server_default='all', nullable=False)
        )
    op.create_table('mentions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id', 'user_id', name='uq_mention_message_user')
    )
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.create_index(
            'ix_mentions_user_room_message', ['user_id', 'room_id', 'message_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index('ix_mentions_user_room_message')
    op.drop_table('mentions')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('notify_level')
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_column('kind')
