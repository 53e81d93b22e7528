"""Throw-away PostgreSQL databases for tests and benchmarks.

One place creates and drops them, so every suite (service tests, deploy
tests, the bench) names, isolates and cleans up its databases the same way.
"""

from __future__ import annotations

import sqlalchemy as sa

from blabber import db


def _admin(admin_url: str) -> sa.Engine:
    return sa.create_engine(db.normalize_url(admin_url), isolation_level="AUTOCOMMIT")


def create_database(admin_url: str, name: str) -> str:
    """(Re)create database ``name`` on ``admin_url``'s server; returns its URL.

    Raises ``sqlalchemy.exc.OperationalError`` when the server is unreachable.
    """
    engine = _admin(admin_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    url = sa.engine.make_url(admin_url).set(database=name)
    return url.render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name``, disconnecting anyone still using it."""
    engine = _admin(admin_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
