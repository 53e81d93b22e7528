"""PostgreSQL stops under a running app: clear errors, nothing lost, recovery by itself.

The app (one Uvicorn worker, in-process broker) runs on a private PostgreSQL
cluster that the test stops with ``pg_ctl stop -m fast`` (every connection
is cut, as in a database restart or failover) and starts again.
"""

from __future__ import annotations

import time

import pytest

from tests.reliability.conftest import (
    APP_ENV,
    assert_no_leak,
    shown_bodies,
    stored_messages,
    wait_health,
)
from tests.support import appserver
from tests.support.reflex_client import AUTH, CHAT, COMPOSER, ReflexClient

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
SEND_ERROR = "Could not send right now; your message is kept, try again"


def _composer_cleared(client: ReflexClient, since: int) -> bool:
    """Whether the server told the tab to empty its composer (a successful send)."""
    return any(
        e.get("name") == "_set_value" and e["payload"].get("ref") == "ref_composer"
        for e in client.frontend_events[since:]
    )


async def test_send_during_outage_fails_clearly_then_retry_stores_once(postgres, stub_web_dir):
    server = appserver.start_server(
        stub_web_dir,
        port=appserver.free_port(),
        database_url=postgres.url,
        extra_env=APP_ENV,
        name="pg-outage",
    )
    alice, bob, carol = (ReflexClient(server.url) for _ in range(3))
    try:
        for client, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            await client.connect()
            await client.sign_up(name)
        await alice.join("ops")
        await bob.join("ops")
        await alice.call(COMPOSER, "send", form_data={"body": "before", "client_id": "m-before"})
        await alice.wait_for(lambda: "before" in shown_bodies(alice))  # acknowledged
        await carol.log_out()
        await carol.wait_for(lambda: not carol.var(AUTH, "username"))

        postgres.stop("fast")
        body = await wait_health(server.url, 503)
        assert body.get("database") == "down"

        # A send: a clear error within a bound, the draft kept (composer not cleared).
        mark = len(alice.frontend_events)
        started = time.monotonic()
        await alice.call(COMPOSER, "send", form_data={"body": "during", "client_id": "m-during"})
        await alice.wait_for(lambda: alice.var(CHAT, "composer_error") == SEND_ERROR, timeout=15)
        assert time.monotonic() - started < 15
        assert not alice.var(CHAT, "sending")
        assert not _composer_cleared(alice, mark)
        # A log-in needs the database too: a clear notice, not an exception.
        status, answer = await carol.post_session("login", username="carol", password="password123")
        assert status == 503 and "unavailable" in answer["error"], (status, answer)
        assert not carol.session_token
        for client in (alice, bob, carol):
            assert_no_leak([client.deltas, client.frontend_events])
        assert_no_leak([[answer]])

        postgres.start()
        await wait_health(server.url, 200)  # recovered by itself: the pool reconnects
        # The retry of the same draft (same client_id) is stored exactly once.
        for _ in range(2):
            mark = len(alice.frontend_events)
            await alice.call(
                COMPOSER, "send", form_data={"body": "during", "client_id": "m-during"}
            )
            await alice.wait_for(lambda m=mark: _composer_cleared(alice, m), timeout=15)
            assert alice.var(CHAT, "composer_error") == ""
        await alice.settle(0.3)
        assert shown_bodies(alice) == ["before", "during"]
        await carol.log_in("carol")
        assert stored_messages(postgres.url) == [("m-before", "before"), ("m-during", "during")]
    finally:
        for client in (alice, bob, carol):
            await client.close()
        server.stop()
