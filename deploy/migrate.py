"""Apply Alembic migrations, one replica at a time.

``docker compose up --scale app=3`` starts three containers that all run the
entrypoint at once; three concurrent ``alembic upgrade head`` runs on an empty
PostgreSQL database race to create the same tables and all but one crash.
Holding a PostgreSQL advisory lock around the upgrade serialises them: the
first migrates, the others then find the database at head and do nothing.
SQLite (single host, file lock) needs no extra lock.

Usage: ``python deploy/migrate.py`` (reads REFLEX_DB_URL like the app does).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# An arbitrary constant shared by every replica ("blabber" in ASCII).
MIGRATION_LOCK_ID = 0x626C6162626572


def main() -> None:
    """Upgrade the configured database to head under the migration lock."""
    import sqlalchemy as sa
    from alembic.config import Config

    from alembic import command
    from blabber.db import make_engine
    from blabber.settings import get_settings

    url = get_settings().database_url
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    if not url.startswith(("postgres://", "postgresql")):
        command.upgrade(cfg, "head")
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            try:
                command.upgrade(cfg, "head")
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
