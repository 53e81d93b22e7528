"""message changes: edits, deletions, replies, reactions, per-room change order

Every change of a room (new message, edit, deletion, reaction) takes the
room's next change number (``rooms.change_seq``), stored on the message as
``seq``, so a reconnecting tab asks for everything after the number it saw.
Existing messages get their id as ``seq`` and each room starts after its
newest message.

Revision ID: 0005_message_changes
Revises: 0004_join_attempts
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005_message_changes'
down_revision: str | None = '0004_join_attempts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('change_seq', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('reply_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_messages_reply_to_id', 'messages', ['reply_to_id'], ['id'])
        batch_op.create_index('ix_messages_room_id_seq', ['room_id', 'seq'], unique=False)
    op.execute('UPDATE messages SET seq = id')
    op.execute(
        'UPDATE rooms SET change_seq = '
        '(SELECT COALESCE(MAX(m.id), 0) FROM messages m WHERE m.room_id = rooms.id)'
    )
    op.create_table('reactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('emoji', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id', 'user_id', 'emoji', name='uq_reaction_message_user')
    )
    with op.batch_alter_table('reactions', schema=None) as batch_op:
        batch_op.create_index('ix_reactions_message_id', ['message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reactions', schema=None) as batch_op:
        batch_op.drop_index('ix_reactions_message_id')
    op.drop_table('reactions')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_room_id_seq')
        batch_op.drop_constraint('fk_messages_reply_to_id', type_='foreignkey')
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('edited_at')
        batch_op.drop_column('reply_to_id')
        batch_op.drop_column('seq')
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_column('change_seq')
