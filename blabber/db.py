"""Database engines and sessions.

Services are synchronous functions taking a ``session``; Reflex handlers call
them through :func:`run_in_session` which runs them in a worker thread, so a
slow query never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

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


# Two pools, so password hashing cannot starve chat: bcrypt (~0.25 s of CPU a
# call) runs on a small pool of its own, and database work gets threads sized
# to the connection pool instead of asyncio's shared default executor (which
# 20 concurrent logins would fill, stalling every send and delivery).
_DB_THREADS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="blabber-db")
PASSWORD_THREAD_NICENESS = 19


def _lower_priority() -> None:
    """Run this bcrypt thread at the lowest CPU priority (Linux: per-thread nice).

    A cost-12 hash is ~250 ms of pure CPU with the GIL released; 20 log-ins
    at once kept both cores busy and chat delivery waited for the CPU (bench:
    p99 8x the idle figure). At nice 19 the scheduler gives the event loop
    the CPU whenever it wants it; log-ins use what is left. Where the OS
    does not allow it, hashing simply runs at normal priority.
    """
    with contextlib.suppress(AttributeError, OSError, PermissionError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PASSWORD_THREAD_NICENESS)


@functools.cache
def password_threads() -> ThreadPoolExecutor:
    """The hashing pool: ``BLABBER_PASSWORD_THREADS`` threads (default 1 per worker).

    One niced thread per worker measured best for chat under a login storm
    (bench/RESULTS.md: p99 1.9-2.9x idle with 1, 2.1-3.9x with 2) with the
    same log-ins completed, as 2 workers already use both cores.
    """
    return ThreadPoolExecutor(
        max_workers=max(1, get_settings().password_threads),
        thread_name_prefix="blabber-bcrypt",
        initializer=_lower_priority,
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
