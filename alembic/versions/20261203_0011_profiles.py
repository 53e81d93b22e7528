"""profiles: display name, about, a status that may expire, and the person's time zone

Revision ID: 0011_profiles
Revises: 0010_room_aliases
Create Date: 2026-12-03 08:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011_profiles'
down_revision: str | None = '0010_room_aliases'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', TEXT(length=50), nullable=True))
        batch_op.add_column(sa.Column('about', TEXT(length=300), nullable=True))
        batch_op.add_column(sa.Column('status_text', TEXT(length=80), nullable=True))
        batch_op.add_column(sa.Column('status_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('time_zone', TEXT(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        for column in ('time_zone', 'status_until', 'status_text', 'about', 'display_name'):
            batch_op.drop_column(column)
