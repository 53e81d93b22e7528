"""search file names: a message's files' names are searched like its text

Revision ID: 0017_search_file_names
Revises: 0016_avatar_changed_at
Create Date: 2026-12-07 15:50:00

``messages.file_names`` holds the shown names of a message's files, one per
line, set when it is sent (files are attached only then) and erased with
its text on deletion. The search index of migration 0013 takes it in:

* SQLite: ``messages_fts`` becomes an FTS5 table of two columns, ``body``
  and ``file_names`` (same tokenizer); it is rebuilt from ``messages`` in
  batches, like 0013's backfill.
* PostgreSQL: the trigger adds the names to ``search_vector``, both as the
  parser reads them ("report.pdf" is one file token) and with ``.``, ``_``
  and ``-`` read as spaces (so "report" finds it, as on SQLite). Only
  messages with files are re-indexed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0017_search_file_names'
down_revision: str | None = '0016_avatar_changed_at'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 20_000
INDEXED = "kind = 'user' AND deleted_at IS NULL"
FILL_NAMES = (
    "UPDATE messages SET file_names = COALESCE(("
    "  SELECT {concat} FROM (SELECT name FROM attachments a"
    "  WHERE a.message_id = messages.id ORDER BY a.position) names), '')"
    " WHERE id IN (SELECT message_id FROM attachments WHERE message_id IS NOT NULL)"
)

# --- SQLite ---------------------------------------------------------------------
TOKENIZE = "tokenize='porter unicode61 remove_diacritics 2'"


def _sqlite_index(columns: tuple[str, ...]) -> tuple[str, ...]:
    """0013's table and triggers over ``columns`` (the same conditions, every column)."""
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    watched = ", ".join(("kind", "deleted_at", *columns))
    return (
        f"CREATE VIRTUAL TABLE messages_fts USING fts5({names}, content='messages', "
        f"content_rowid='id', {TOKENIZE})",
        f"""CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
        WHEN new.kind = 'user' AND new.deleted_at IS NULL BEGIN
          INSERT INTO messages_fts(rowid, {names}) VALUES (new.id, {new});
        END""",
        f"""CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
        WHEN old.kind = 'user' AND old.deleted_at IS NULL BEGIN
          INSERT INTO messages_fts(messages_fts, rowid, {names}) VALUES ('delete', old.id, {old});
        END""",
        f"""CREATE TRIGGER messages_fts_update AFTER UPDATE OF {watched} ON messages
        BEGIN
          INSERT INTO messages_fts(messages_fts, rowid, {names})
            SELECT 'delete', old.id, {old} WHERE old.kind = 'user' AND old.deleted_at IS NULL;
          INSERT INTO messages_fts(rowid, {names})
            SELECT new.id, {new} WHERE new.kind = 'user' AND new.deleted_at IS NULL;
        END""",
    )


def _sqlite_rebuild(columns: tuple[str, ...]) -> None:
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS messages_fts_{name}")
    op.execute("DROP TABLE IF EXISTS messages_fts")
    for statement in _sqlite_index(columns):
        op.execute(statement)
    names = ", ".join(columns)
    _backfill(
        f"INSERT INTO messages_fts(rowid, {names}) SELECT id, {names} FROM messages "
        f"WHERE id >= :low AND id < :high AND {INDEXED}"
    )


# --- PostgreSQL -----------------------------------------------------------------
BODY_VECTOR = "to_tsvector('blabber_search', replace(NEW.body, '<', ' '))"
NAMES_VECTOR = (
    "to_tsvector('blabber_search', NEW.file_names)"
    " || to_tsvector('blabber_search', translate(NEW.file_names, '._-', '   '))"
)


def _pg_trigger(vector: str, columns: str) -> tuple[str, ...]:
    return (
        "DROP TRIGGER IF EXISTS messages_search_vector ON messages",
        f"""CREATE OR REPLACE FUNCTION messages_search_vector() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          NEW.search_vector := CASE WHEN NEW.kind = 'user' AND NEW.deleted_at IS NULL
            THEN {vector} END;
          RETURN NEW;
        END $$""",
        f"CREATE TRIGGER messages_search_vector BEFORE INSERT OR UPDATE OF {columns} "
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
    op.add_column(
        'messages', sa.Column('file_names', sa.Text(), nullable=False, server_default='')
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in _pg_trigger(
            f"{BODY_VECTOR} || {NAMES_VECTOR}", "body, kind, deleted_at, file_names"
        ):
            op.execute(statement)
        op.execute(FILL_NAMES.format(concat="string_agg(name, E'\\n')"))  # re-indexes them
        return
    op.execute(FILL_NAMES.format(concat="group_concat(name, char(10))"))
    _sqlite_rebuild(("body", "file_names"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _pg_trigger(BODY_VECTOR, "body, kind, deleted_at"):
            op.execute(statement)
        op.execute(
            f"UPDATE messages SET search_vector = "
            f"to_tsvector('blabber_search', replace(body, '<', ' ')) "
            f"WHERE file_names <> '' AND {INDEXED}"
        )
        op.drop_column('messages', 'file_names')
        return
    _sqlite_rebuild(("body",))
    # SQLite 3.35+ drops a column in place (no batch copy, which would drop the triggers).
    op.execute("ALTER TABLE messages DROP COLUMN file_names")
