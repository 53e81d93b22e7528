"""Redis dies under a two-worker app (broker + Reflex state manager), then returns.

Production-like: Uvicorn with 2 workers, Redis pub/sub broker, Reflex's Redis
state manager with oplock, PostgreSQL (all private instances). Redis is
SIGKILLed (a crash: every connection drops, and since it runs without
persistence, like docker-compose's, all tab state held there is lost).
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import socketio

from tests.reliability.conftest import (
    APP_ENV,
    assert_no_leak,
    shown_bodies,
    stored_messages,
    wait_health,
)
from tests.support import appserver
from tests.support.reflex_client import CHAT, COMPOSER, ReflexClient

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]


async def test_redis_outage_degrades_clearly_and_recovers(postgres, redis_server, stub_web_dir):
    server = appserver.start_server(
        stub_web_dir,
        port=appserver.free_port(),
        database_url=postgres.url,
        redis_url=redis_server.url,
        workers=2,
        extra_env=APP_ENV,
        name="redis-outage",
    )
    alice, bob = ReflexClient(server.url), ReflexClient(server.url)
    try:
        for client, name in ((alice, "alice"), (bob, "bob")):
            await client.connect()
            await client.sign_up(name)
            await client.join("ops")
        await alice.call(COMPOSER, "send", form_data={"body": "before", "client_id": "m-before"})
        await bob.wait_for(lambda: "before" in shown_bodies(bob))
        workers = {p.pid for p in server.worker_processes()}
        assert len(workers) == 2

        redis_server.stop()
        body = await wait_health(server.url, 503, timeout=10)
        assert body == {"database": "ok", "redis": "down", "status": "unavailable"}
        # A send during the outage: acknowledged, or refused with a clear notice, in bounded time.
        mark = (len(alice.frontend_events), len(alice.deltas))
        await alice.call(COMPOSER, "send", form_data={"body": "during", "client_id": "m-during"})
        started = time.monotonic()

        def answered() -> bool:
            notices = alice.toasts()[mark[0] :]
            return "during" in shown_bodies(alice) or bool(
                alice.var(CHAT, "composer_error") or notices
            )

        await alice.wait_for(answered, timeout=15)
        assert time.monotonic() - started < 15
        if "during" not in shown_bodies(alice):
            notice = " ".join(alice.toasts()[mark[0] :]) + alice.var(CHAT, "composer_error")
            assert "unavailable" in notice.lower()
        # A tab opening now is refused at the socket (the browser keeps retrying and shows
        # "Reconnecting…") or told chat is unavailable: never a hang or a trace.
        carol = ReflexClient(server.url)
        try:
            await asyncio.wait_for(carol.connect("/login"), 12)
            await carol.wait_for(lambda: bool(carol.toasts()), timeout=12)
            assert "unavailable" in carol.toasts()[-1].lower()
        except (socketio.exceptions.ConnectionError, TimeoutError):
            pass  # refused: the same as a server that is down
        finally:
            await carol.close()
        for client in (alice, bob, carol):
            assert_no_leak([client.deltas, client.frontend_events])
        # No worker crashed or hangs: the same processes still answer.
        assert server.proc.poll() is None
        assert {p.pid for p in server.worker_processes()} == workers
        await wait_health(server.url, 503, timeout=5)

        since_back = len(alice.frontend_events)
        redis_server.start()
        assert await wait_health(server.url, 200) == {
            "database": "ok",
            "redis": "ok",
            "status": "ok",
        }
        # Tab state kept in Redis is gone. Does a still-open tab carry on by itself?
        kept_session = await _send_and_ack(alice, "without reload", "m-noreload")
        if not kept_session:
            # Its server state was lost with Redis: the tab resumed from its stored
            # session by itself (ChatState.resume) and kept the draft; pressing
            # Enter again sends it, once.
            await alice.wait_for(lambda: bool(alice.var(CHAT, "room_name")), timeout=10)
            assert await _send_and_ack(alice, "without reload", "m-noreload")
        assert not any(
            "/login" in json.dumps(e)
            for e in alice.frontend_events[since_back:]
            if "redirect" in json.dumps(e)
        ), "an open tab must not be sent to /login when Redis comes back"
        # A tab that reconnects (a reload: it re-sends its stored session) works, and a new
        # send reaches the other tab live through the restarted broker.
        for client in (alice, bob):
            await client.reconnect()
            await client.wait_for(lambda c=client: "before" in shown_bodies(c), timeout=15)
        await asyncio.sleep(1.5)  # both workers' hubs resubscribe within their retry period
        await alice.call(COMPOSER, "send", form_data={"body": "after", "client_id": "m-after"})
        await bob.wait_for(lambda: "after" in shown_bodies(bob), timeout=15)
        acked = {"m-before", "m-after"} | (
            {"m-during"} if "during" in shown_bodies(alice) else set()
        )
        stored = {cid for cid, _ in stored_messages(postgres.url)}
        assert acked <= stored  # nothing acknowledged is lost
        assert len(stored) == len(stored_messages(postgres.url))  # and nothing twice
        assert server.proc.poll() is None and {p.pid for p in server.worker_processes()} == workers
    finally:
        for client in (alice, bob):
            await client.close()
        server.stop()


async def _send_and_ack(client: ReflexClient, body: str, client_id: str) -> bool:
    """Send from an open tab; True when it was stored and shown (no redirect to /login)."""
    await client.call(COMPOSER, "send", form_data={"body": body, "client_id": client_id})
    try:
        await client.wait_for(lambda: body in shown_bodies(client), timeout=5)
    except TimeoutError:
        return False
    return True
