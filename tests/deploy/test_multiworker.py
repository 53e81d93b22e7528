"""Scale-out without a proxy: two app processes, one database, one Redis.

Required by the rooms issue: a message sent through process A reaches a tab
connected to process B live. Each process runs two Uvicorn workers, so the
path crosses processes (and usually workers inside them) only through
PostgreSQL and the Redis broker. Also checks that deploy/entrypoint.sh
migrates a fresh database and serves, natively.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

import pytest
import sqlalchemy as sa

from blabber import db
from tests.deploy import chat_ui
from tests.support import appserver

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
ENTRYPOINT = appserver.PROJECT_ROOT / "deploy" / "entrypoint.sh"
FAST_HASHING = {"BLABBER_BCRYPT_ROUNDS": "4"}


@pytest.mark.e2e
@pytest.mark.redis
def test_message_sent_on_one_process_arrives_live_on_the_other(
    browser, fresh_database: str, clean_redis: str
) -> None:
    appserver.migrate(fresh_database)
    ports = [appserver.free_port(), appserver.free_port()]
    servers = []
    try:
        for i, port in enumerate(ports):
            web_dir = appserver.build_frontend(port)
            servers.append(
                appserver.start_server(
                    web_dir,
                    port=port,
                    database_url=fresh_database,
                    redis_url=clean_redis,
                    workers=2,
                    extra_env=FAST_HASHING,
                    name=f"multi{i}",
                )
            )
        ctx_a, ctx_b = browser.new_context(), browser.new_context()
        alice, bob = ctx_a.new_page(), ctx_b.new_page()
        # Each user's page (and therefore websocket) is on its own process.
        chat_ui.sign_up(alice, servers[0].url, "alice")
        chat_ui.sign_up(bob, servers[1].url, "bob")
        chat_ui.join_room(alice, "lobby")
        chat_ui.join_room(bob, "lobby")

        chat_ui.send(alice, "hello from process A")
        chat_ui.expect_message(bob, "hello from process A")
        chat_ui.send(bob, "and back from process B")
        chat_ui.expect_message(alice, "and back from process B")

        assert alice.url.startswith(servers[0].url) and bob.url.startswith(servers[1].url)
        ctx_a.close()
        ctx_b.close()
    finally:
        for server in servers:
            server.stop()


def _entrypoint_env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    web_dir = appserver.ARTIFACTS / "entrypoint-web"
    (web_dir / "build" / "client").mkdir(parents=True, exist_ok=True)
    (web_dir / "build" / "client" / "index.html").write_text("<!doctype html><title>t</title>")
    return appserver.base_env(
        {
            "REFLEX_DB_URL": database_url,
            "REFLEX_WEB_WORKDIR": str(web_dir),
            "BIND_HOST": "127.0.0.1",
            "BIND_PORT": str(port),
            "WORKERS": "1",
            "PYTHON": sys.executable,
            **extra,
        }
    )


def _tables(database_url: str) -> set[str]:
    engine = db.make_engine(database_url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_entrypoint_migrates_then_serves(fresh_database: str) -> None:
    port = appserver.free_port()
    log_path = appserver.ARTIFACTS / f"entrypoint-{port}.log"
    appserver.ARTIFACTS.mkdir(exist_ok=True)
    with log_path.open("w") as out:
        proc = subprocess.Popen(
            [str(ENTRYPOINT)],
            env=_entrypoint_env(fresh_database, port),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = appserver.AppServer(port=port, proc=proc, log_path=log_path)
    try:
        server.wait_ready(timeout=60)
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as resp:
            assert resp.status == 200
        assert {"alembic_version", "users", "messages"} <= _tables(fresh_database)
        log = log_path.read_text()
        assert "applying migrations" in log and "blabber starting" in log
        assert "Uvicorn running on" in log  # started by the entrypoint's exec
    finally:
        server.stop()


def test_entrypoint_refuses_unsafe_production_before_migrating(fresh_database: str) -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [str(ENTRYPOINT)],
        env=_entrypoint_env(fresh_database, appserver.free_port(), BLABBER_ENV="production"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "refusing to start in production" in proc.stderr
    assert "BLABBER_SECRET_KEY" in proc.stderr and "BLABBER_ALLOWED_ORIGINS" in proc.stderr
    assert "alembic_version" not in _tables(fresh_database)  # nothing was touched
    assert time.monotonic() - started < 30
