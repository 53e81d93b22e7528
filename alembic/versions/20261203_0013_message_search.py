"""message search: an FTS5 index (SQLite) or a tsvector column + GIN index (PostgreSQL)

Revision ID: 0013_message_search
Revises: 0012_site_admin_invites
Create Date: 2026-12-03 15:10:00

Both indexes are kept in sync by triggers, so every write path (send, edit,
delete, the system's own lines) is covered without the services knowing.
Only user-written, undeleted messages are indexed (``kind = 'user'`` and
``deleted_at IS NULL``).

The backfill of existing messages runs in batches of ``BATCH`` rows, each
its own transaction, so it never holds the write lock for more than one
batch (about a tenth of a second); on PostgreSQL the GIN index is then built
``CONCURRENTLY`` (writes go on meanwhile). bench/RESULTS.md §14 has the times
on a million messages.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013_message_search'
down_revision: str | None = '0012_site_admin_invites'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 20_000
INDEXED = "kind = 'user' AND deleted_at IS NULL"

# --- SQLite: FTS5, external content (the text stays in messages only) -------
# porter = English stemming (deploying ~ deployed); unicode61 with
# remove_diacritics 2 = case- and accent-insensitive.
SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "body, content='messages', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')"
)
# An external-content index must be told the *old* text to remove a row, and
# only rows it holds may be removed (a 'delete' of a row it never indexed
# corrupts it): hence the same condition on old and new.
SQLITE_TRIGGERS = (
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
    WHEN new.kind = 'user' AND new.deleted_at IS NULL BEGIN
      INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
    END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
    WHEN old.kind = 'user' AND old.deleted_at IS NULL BEGIN
      INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END""",
    # One trigger for both steps, so the old row leaves before the new one comes
    # (two AFTER triggers would fire newest-first and insert a duplicate rowid).
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, kind, deleted_at ON messages
    BEGIN
      INSERT INTO messages_fts(messages_fts, rowid, body)
        SELECT 'delete', old.id, old.body WHERE old.kind = 'user' AND old.deleted_at IS NULL;
      INSERT INTO messages_fts(rowid, body)
        SELECT new.id, new.body WHERE new.kind = 'user' AND new.deleted_at IS NULL;
    END""",
)

# --- PostgreSQL: a tsvector column kept by a trigger, GIN-indexed ------------
# English stemming after unaccent, in a configuration of our own. The text is
# indexed with "<" read as a space: PostgreSQL's parser would otherwise take
# "<script>" for an HTML tag and drop the word, where SQLite keeps it.
PG_VECTOR = "to_tsvector('blabber_search', replace({body}, '<', ' '))"
PG_SETUP = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH CONFIGURATION blabber_search (COPY = pg_catalog.english)",
    "ALTER TEXT SEARCH CONFIGURATION blabber_search "
    "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem",
    "ALTER TABLE messages ADD COLUMN search_vector tsvector",
    f"""CREATE FUNCTION messages_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.search_vector := CASE WHEN NEW.kind = 'user' AND NEW.deleted_at IS NULL
        THEN {PG_VECTOR.format(body="NEW.body")} END;
      RETURN NEW;
    END $$""",
    "CREATE TRIGGER messages_search_vector BEFORE INSERT OR UPDATE OF body, kind, deleted_at "
    "ON messages FOR EACH ROW EXECUTE FUNCTION messages_search_vector()",
)


def _backfill(statement: str) -> None:
    """Run ``statement`` (with :low and :high ids) over every message, one batch per commit."""
    bind = op.get_bind()
    top = bind.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM messages")).scalar_one()
    with op.get_context().autocommit_block():
        for low in range(0, top + 1, BATCH):
            bind.execute(sa.text(statement), {"low": low, "high": low + BATCH})


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_SETUP:
            op.execute(statement)
        _backfill(
            f"UPDATE messages SET search_vector = {PG_VECTOR.format(body='body')} "
            f"WHERE id >= :low AND id < :high AND {INDEXED}"
        )
        with op.get_context().autocommit_block():
            op.execute(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_messages_search "
                "ON messages USING gin (search_vector)"
            )
        return
    op.execute(SQLITE_TABLE)
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)
    _backfill(
        "INSERT INTO messages_fts(rowid, body) SELECT id, body FROM messages "
        f"WHERE id >= :low AND id < :high AND {INDEXED}"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_messages_search")
        op.execute("DROP TRIGGER IF EXISTS messages_search_vector ON messages")
        op.execute("DROP FUNCTION IF EXISTS messages_search_vector()")
        op.execute("ALTER TABLE messages DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS blabber_search")
        return
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS messages_fts_{name}")
    op.execute("DROP TABLE IF EXISTS messages_fts")
