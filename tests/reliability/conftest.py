"""Fault tests: real app processes on private PostgreSQL/Redis that the tests stop and kill.

Each test gets its own PostgreSQL cluster and Redis server (``tests.support.services``)
so stopping them never disturbs the machine's shared instances. The app serves a
stub frontend (protocol clients need only the websocket); the browser test builds
the real one. Without the server binaries these tests skip, or fail under
``BLABBER_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from blabber import db
from tests.conftest import missing_service
from tests.support import appserver, services
from tests.support.reflex_client import ROOT, ReflexClient

# Cheap bcrypt: these tests measure faults, not hashing.
APP_ENV = {"BLABBER_BCRYPT_ROUNDS": "4"}
# What a user may be shown; never any of these (a stack trace or exception text).
LEAK_MARKERS = ("Traceback", "OperationalError", "psycopg2", "ConnectionError", "redis.", 'File "')


@pytest.fixture(scope="session", autouse=True)
def _server_binaries() -> None:
    missing = services.missing_binaries()
    if missing:
        missing_service(f"not installed: {', '.join(missing)}: reliability tests skipped")


@pytest.fixture
def postgres() -> Iterator[services.PrivatePostgres]:
    """A private, migrated PostgreSQL this test may stop and start."""
    with services.private_postgres() as server:
        appserver.migrate(server.url)
        yield server


@pytest.fixture
def redis_server() -> Iterator[services.PrivateRedis]:
    """A private Redis this test may kill and restart."""
    with services.private_redis() as server:
        yield server


@pytest.fixture(scope="session")
def stub_web_dir() -> Path:
    """A web dir with a placeholder page: enough for websocket clients, no build needed."""
    web_dir = appserver.ARTIFACTS / "reliability-web"
    (web_dir / "build" / "client").mkdir(parents=True, exist_ok=True)
    (web_dir / "build" / "client" / "index.html").write_text("<!doctype html><title>t</title>")
    return web_dir


def health(url: str) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of ``url``/healthz; (0, {}) when nothing answers."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")
    except OSError:
        return 0, {}


async def wait_health(url: str, status: int, timeout: float = 20.0) -> dict[str, Any]:
    """Poll /healthz until it answers ``status``; returns the body or fails."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: tuple[int, dict[str, Any]] = (0, {})
    while loop.time() < deadline:
        last = await asyncio.to_thread(health, url)
        if last[0] == status:
            return last[1]
        await asyncio.sleep(0.2)
    raise AssertionError(f"/healthz never answered {status}; last: {last}")


def stored_messages(database_url: str) -> list[tuple[str, str]]:
    """(client_id, body) of every user message in the database, oldest first."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT client_id, body FROM messages WHERE kind = 'user' ORDER BY id")
            )
            return [(r[0], r[1]) for r in rows]
    finally:
        engine.dispose()


def assert_no_leak(texts: list[Any]) -> None:
    """Nothing the client received contains a stack trace or exception internals."""
    blob = json.dumps(texts, default=str)
    for marker in LEAK_MARKERS:
        assert marker not in blob, f"{marker!r} reached the client: {blob[:1500]}"


FEED = f"{ROOT}.blabber___state___feed____feed_state"


def shown(client: ReflexClient) -> list[dict[str, Any]]:
    """User messages the tab shows, oldest first: the page's rule (``blabber.realtime.shown``)."""
    return [m for m in client.messages() if m.get("kind") == "user"]


def shown_bodies(client: ReflexClient) -> list[str]:
    """Bodies of :func:`shown`."""
    return [m["body"] for m in shown(client)]
