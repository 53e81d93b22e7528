"""Database engines and sessions.

Services are synchronous functions taking a ``session``; Reflex handlers call
them through :func:`run_in_session` which runs them in a worker thread, so a
slow query never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from blabber import hashing, security
from blabber.settings import get_settings

T = TypeVar("T")


def normalize_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg2 (SQLAlchemy 2.1 would pick psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url.removeprefix(prefix)
    return url


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url`` with sensible pool settings for both backends."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=10)


@functools.cache
def get_engine() -> sa.Engine:
    """The process-wide engine for the configured database."""
    return make_engine(get_settings().database_url)


def run_sync(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn(session, *args, **kwargs)`` in a fresh session (blocking)."""
    with Session(get_engine(), expire_on_commit=False) as session:
        return fn(session, *args, **kwargs)


# Two pools, so password hashing cannot starve chat: log-ins and sign-ups run
# on a small pool of their own (one at a time per worker by default, so a
# log-in storm holds one database connection, not all of them), and database
# work gets threads sized to the connection pool instead of asyncio's shared
# default executor (which 20 concurrent logins would fill, stalling every send
# and delivery). The bcrypt CPU itself runs in a low-priority process
# (blabber/hashing.py); the password thread just waits for it.
_DB_THREADS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="blabber-db")


def _hash_in_idle_process() -> None:
    """Password-thread initializer: send this thread's bcrypt work to the hashing process."""
    security.send_bcrypt_work_to(hashing.run_bcrypt)


@functools.cache
def password_threads() -> ThreadPoolExecutor:
    """The password pool: ``BLABBER_PASSWORD_THREADS`` threads (default 1 per worker).

    One per worker measured best for chat under a login storm (bench/RESULTS.md)
    with as many log-ins completed, as 2 workers already use both cores.
    """
    return ThreadPoolExecutor(
        max_workers=max(1, get_settings().password_threads),
        thread_name_prefix="blabber-password",
        initializer=_hash_in_idle_process,
    )


async def _in_pool(pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool, functools.partial(run_sync, fn, *args, **kw))


async def run_in_session(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a service function off the event loop with its own session."""
    return await _in_pool(_DB_THREADS, fn, *args, **kwargs)


async def run_password_work(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Like :func:`run_in_session`, for services that hash or check passwords."""
    return await _in_pool(password_threads(), fn, *args, **kwargs)
