"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured) and brokers.

PostgreSQL and Redis suites read ``BLABBER_TEST_DATABASE_URL`` /
``BLABBER_TEST_REDIS_URL``. Without them those tests are skipped with a
visible reason; with ``BLABBER_REQUIRE_SERVICES=1`` (set by ``.ci/run``) a
missing or unreachable service fails the run instead.
"""

from __future__ import annotations

import os
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from blabber import db
from blabber.realtime import broker as broker_mod
from blabber.realtime.broker import MemoryBroker
from blabber.realtime.events import Event
from blabber.settings import Settings
from tests.support.pg import create_database, drop_database

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("BLABBER_REQUIRE_SERVICES") == "1"
PG_URL = os.environ.get("BLABBER_TEST_DATABASE_URL", "")


def _redis_of_this_worker(url: str) -> str:
    """``url`` with its database number moved up by the pytest-xdist worker's index.

    ``make test`` runs the suite in two processes (gw0, gw1). Each gets its
    own Redis database, so one worker's ``FLUSHDB`` never wipes the other's
    tab states, and (the broker's channel is named after the database) no
    app server hears another worker's events.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker.startswith("gw"):
        return url
    parts = urllib.parse.urlsplit(url)
    db_index = int(parts.path.strip("/") or 0) + int(worker[2:])
    return urllib.parse.urlunsplit(parts._replace(path=f"/{db_index}"))


REDIS_URL = _redis_of_this_worker(os.environ.get("BLABBER_TEST_REDIS_URL", ""))

# Fast hashing for service tests; the cost-12 default is checked in test_security.
FAST = Settings(bcrypt_rounds=4)


def missing_service(reason: str) -> None:
    """Skip (developer machine) or fail (CI) when a real service is unavailable."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def _alembic_upgrade(url: str) -> None:
    from alembic.config import Config

    from alembic import command

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "head")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head."""
    if not PG_URL:
        missing_service("BLABBER_TEST_DATABASE_URL not set: PostgreSQL tests skipped")
    name = f"blabber_test_{uuid.uuid4().hex[:8]}"
    try:
        url = create_database(PG_URL, name)
    except sa.exc.OperationalError as exc:
        missing_service(f"PostgreSQL unreachable at BLABBER_TEST_DATABASE_URL: {exc}")
    _alembic_upgrade(url)
    yield url
    drop_database(PG_URL, name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    _alembic_upgrade(f"sqlite:///{path}")
    return path


def _truncate_all(engine: sa.Engine) -> None:
    tables = [t.name for t in SQLModel.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(sa.text(f"DELETE FROM {table}"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A migrated, empty database of each backend; also installed as the app's engine."""
    if request.param == "sqlite":
        import shutil

        path = tmp_path / "blabber.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
    eng = db.make_engine(url)
    if request.param == "postgres":
        _truncate_all(eng)
    db.get_engine.cache_clear()
    original = db.get_engine
    db.get_engine = lambda: eng  # type: ignore[assignment]
    try:
        yield eng
    finally:
        db.get_engine = original  # type: ignore[assignment]
        eng.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    """A session on the test database; objects stay usable after commit."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


class RecordingBroker(MemoryBroker):
    """The real in-process broker, also keeping a list of what was published."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[Event] = []

    def publish(self, event: Event) -> None:
        self.published.append(event)
        super().publish(event)

    def of_type(self, type_: str) -> list[Event]:
        return [e for e in self.published if e.type == type_]


@pytest.fixture
def broker() -> Iterator[RecordingBroker]:
    """Install a recording in-process broker as the process-wide broker."""
    rec = RecordingBroker()
    broker_mod.set_broker(rec)
    try:
        yield rec
    finally:
        broker_mod.set_broker(None)


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis URL (skipped or failed per REQUIRE_SERVICES)."""
    if not REDIS_URL:
        missing_service("BLABBER_TEST_REDIS_URL not set: Redis tests skipped")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        missing_service(f"Redis unreachable at BLABBER_TEST_REDIS_URL: {exc}")
    return REDIS_URL


# For tests of pure rules (validation messages, arithmetic) where the database
# backend makes no difference: run them on SQLite only to keep the suite fast.
SQLITE_ONLY = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
