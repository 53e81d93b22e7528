"""A socket stops receiving a room's live feed the moment its tab loses access.

The feed reaches a socket.io room of viewers, not individual tab states, so
losing access must take the socket out of that room: being kicked, logging
out (the socket stays open on /login), and a session revoked from another
tab. After each, the room's next message must not arrive at all.
"""

from __future__ import annotations

import json

from tests.security.conftest import member_tab as tab
from tests.security.conftest import post, uniq
from tests.support.reflex_client import ADMIN, AUTH, CHAT, FEED, ReflexClient


def received_text(client: ReflexClient, since: int) -> str:
    return json.dumps(client.received[since:])


async def test_logout_kick_and_revocation_each_stop_the_feed(backend):
    room = uniq("feed")
    alice = await tab(backend, uniq("alice"), room)
    bob = await tab(backend, uniq("bob"), room)
    carol = await tab(backend, uniq("carol"), room)
    dave = await tab(backend, uniq("dave"), room)
    # dave's second tab on the same session, as another browser tab would be.
    dave_too = ReflexClient(backend.url)
    dave_too.session_token = dave.session_token  # the browser's cookie, sent by every tab
    await dave_too.connect(f"/rooms/{room}", dave.storage())
    try:
        await post(alice, "everyone sees this")
        for client in (bob, carol, dave, dave_too):
            await client.wait_for(
                lambda c=client: "everyone sees this" in [m["body"] for m in c.messages()],
                timeout=10,
            )
        marks = {c: len(c.received) for c in (bob, carol, dave_too)}

        await bob.log_out()  # bob: logged out (the endpoint), socket still open
        await bob.wait_for(lambda: not bob.var(AUTH, "username"), timeout=10)
        carol_id = next(
            m["user_id"]
            for m in alice.var(FEED, "members", [])
            if m["username"].startswith("carol")
        )
        carol_mark = len(carol.received)
        await alice.call(ADMIN, "kick", user_id=carol_id)  # carol: kicked
        await dave.log_out()  # dave's other tab: revoked elsewhere
        await dave_too.wait_for(
            lambda: any("/login" in json.dumps(e) for e in dave_too.frontend_events), timeout=10
        )
        # Published with the kick, in one broker batch: the feed must have let
        # carol go before sending it (she is told "You were removed" instead).
        carol_name = carol.var(AUTH, "username")
        await alice.wait_for(lambda: f"{carol_name} was removed" in json.dumps(alice.received))
        assert f"{carol_name} was removed" not in received_text(carol, carol_mark)
        await carol.wait_for(lambda: "You were removed" in (carol.var(CHAT, "notice") or ""))

        await post(alice, "after they lost access")  # returns once alice's page shows it
        for client in (bob, carol, dave_too):
            await client.barrier()
            assert "after they lost access" not in received_text(client, marks[client]), client
    finally:
        for client in (alice, bob, carol, dave, dave_too):
            await client.close()
