"""A real Blabber backend (no frontend build needed) for protocol-level security tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support import appserver
from tests.support.reflex_client import COMPOSER, ReflexClient

# Fast hashing: these tests sign up dozens of users. (start_server already
# lifts the per-address limits; test_rate_limits.py sets strict ones.)
LENIENT = {"BLABBER_BCRYPT_ROUNDS": "4"}


def start_backend(
    tmp_path_factory: pytest.TempPathFactory, name: str, extra_env: dict[str, str]
) -> appserver.AppServer:
    """A backend on a fresh SQLite DB serving a placeholder page instead of the real build."""
    root = tmp_path_factory.mktemp(name)
    web_dir = root / "web"
    (web_dir / "build" / "client").mkdir(parents=True)
    (web_dir / "build" / "client" / "index.html").write_text("<!doctype html><title>t</title>")
    url = f"sqlite:///{Path(root) / 'blabber.db'}"
    appserver.migrate(url)
    server = appserver.start_server(
        web_dir, port=appserver.free_port(), database_url=url, name=name, extra_env=extra_env
    )
    server.database_url = url  # type: ignore[attr-defined]
    return server


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[appserver.AppServer]:
    """A backend for protocol-level tests (fast hashing, no per-address limits)."""
    server = start_backend(tmp_path_factory, "security", LENIENT)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def backend_db(backend: appserver.AppServer) -> Iterator[sa.Engine]:
    """Read access to the backend's database, to prove what did (not) change."""
    engine = sa.create_engine(backend.database_url)  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


def uniq(prefix: str = "u") -> str:
    """A fresh name, so tests sharing one backend never collide."""
    return f"{prefix}{uuid.uuid4().hex[:6]}"


@pytest.fixture
async def clients() -> AsyncIterator[list[ReflexClient]]:
    """Tabs opened with :func:`tab`, closed after the test."""
    made: list[ReflexClient] = []
    yield made
    for client in made:
        await client.close()


async def member_tab(backend: appserver.AppServer, name: str, room: str) -> ReflexClient:
    """A new tab signed up as ``name`` with ``room`` open (the caller closes it)."""
    client = ReflexClient(backend.url)
    await client.connect()
    await client.sign_up(name)
    await client.join(room)
    return client


async def post(sender: ReflexClient, body: str) -> None:
    """Send ``body`` from ``sender`` and wait until the sender's page shows it."""
    await sender.call(COMPOSER, "send", form_data={"body": body, "client_id": uuid.uuid4().hex})
    await sender.wait_for(lambda: body in sender.bodies(), timeout=10)


async def tab(backend: appserver.AppServer, made: list[ReflexClient]) -> ReflexClient:
    """A connected tab on ``backend``, closed by the ``clients`` fixture."""
    client = ReflexClient(backend.url)
    await client.connect()
    made.append(client)
    return client
