"""room aliases: a renamed room's old public names lead its members to it

Revision ID: 0010_room_aliases
Revises: 0009_private_rooms
Create Date: 2026-12-03 08:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0010_room_aliases'
down_revision: str | None = '0009_private_rooms'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'room_aliases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('room_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name_key'),
    )
    with op.batch_alter_table('room_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_aliases_room_id'), ['room_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('room_aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_aliases_room_id'))
    op.drop_table('room_aliases')
