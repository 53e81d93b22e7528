"""avatar changed at: profile pictures change at most once every few seconds

Revision ID: 0016_avatar_changed_at
Revises: 0015_attachments
Create Date: 2026-12-07 15:05:00

Each new or removed picture re-sends my messages' rows to every room I am
in (services.profiles.tell_rooms); without a limit a script could make
every viewer of those rooms re-read them many times a second.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016_avatar_changed_at'
down_revision: str | None = '0015_attachments'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('avatar_changed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('avatar_changed_at')
