"""messages by author and time: the send rate limit and search's from: without a scan

Revision ID: 0014_messages_by_author_time
Revises: 0013_message_search
Create Date: 2026-12-03 16:05:00

Every send counts the author's messages of the last seconds (the rate
limit); with only ``(author_id, client_id)`` to go by, that read all of the
author's messages: 20 ms a send on SQLite and 50 ms on PostgreSQL for an
author of 10,000 messages (bench/RESULTS.md §14). On PostgreSQL the index is
built ``CONCURRENTLY``, so sends go on while it is made.
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0014_messages_by_author_time'
down_revision: str | None = '0013_message_search'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = 'ix_messages_author_id_created_at'


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index(
                INDEX,
                'messages',
                ['author_id', 'created_at'],
                postgresql_concurrently=True,
                if_not_exists=True,
            )
        return
    op.create_index(INDEX, 'messages', ['author_id', 'created_at'])


def downgrade() -> None:
    op.drop_index(INDEX, table_name='messages')
