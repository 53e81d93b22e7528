"""A tab's remembered state grants nothing: identity and room access are proven anew.

Two attacks of a security review, replayed with crafted socket.io traffic:

* **Stale tab after a kick.** A member's socket closes, the admin kicks
  them, and they reopen a socket with the same tab token. Whatever the
  server still remembers for that tab (the open room, the room list) must
  not put the socket back into the room's live feed, show the room's unread
  news, or let it post typing notices there.
* **Tab token alone.** The tab token travels in the websocket URL (proxy
  logs). A socket opened with only a victim's tab token, without the
  session cookie the browser's handshake carries, must not act as the victim.

Every negative check has a positive control first (the same observer sees
the same kind of thing from someone allowed), so a broken observer cannot
make a check pass.
"""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

from tests.security.conftest import member_tab as tab
from tests.security.conftest import post, uniq
from tests.support.appserver import AppServer
from tests.support.reflex_client import (
    ADMIN,
    AUTH,
    COMPOSER,
    FEED,
    ROOM,
    ReflexClient,
)


def member_row(client: ReflexClient, name: str) -> dict | None:
    return next((m for m in client.var(FEED, "members", []) if m["username"] == name), None)


async def wait_offline(admin: ReflexClient, name: str) -> None:
    """The server forgot the closed socket (its presence sync ran): the admin sees it offline."""
    await admin.wait_for(lambda: not (member_row(admin, name) or {}).get("online"), timeout=15)


async def second_tab_joins_elsewhere(backend: AppServer, of: ReflexClient) -> ReflexClient:
    """Another tab of the same session joins a room: a per-tab delivery to every tab of the user."""
    other = ReflexClient(backend.url)
    other.session_token = of.session_token  # the browser's cookie: every tab sends it
    await other.connect("/", of.storage())
    await other.wait_for(lambda: bool(other.var(AUTH, "username")))
    await other.join(uniq("elsewhere"))
    return other


async def replay_kick_on_stale_tab(backend: AppServer, prove_identity: bool) -> dict[str, object]:
    """Replay the review's steps; return what the stale tab received and the admin saw.

    ``seen``: every packet the stale tab got after reopening, as JSON;
    ``typing``: the admin's typing lines since; ``mal``: the kicked member's name.
    A positive control inside checks that a current member's typing and
    messages do reach the same observers.
    """
    room = uniq("vault")
    admin_name, mal_name = uniq("admin"), uniq("mal")
    admin = await tab(backend, admin_name, room)
    mal = await tab(backend, mal_name, room)
    mal_cookie = mal.session_token
    opened = [admin, mal]
    try:
        await admin.wait_for(lambda: (member_row(admin, mal_name) or {}).get("online", False))
        await mal.close()
        await wait_offline(admin, mal_name)
        await admin.call(ADMIN, "kick", user_id=member_row(admin, mal_name)["user_id"])
        await admin.wait_for(lambda: member_row(admin, mal_name) is None, timeout=10)

        # With the real session cookie (but no page load, no on_load), or without.
        mal.session_token = mal_cookie if prove_identity else ""
        await mal.reopen_without_hydrate()
        mal.session_token = mal_cookie  # the browser still has it, for the second tab
        mark = len(mal.received)
        # Typing before anything that re-checks membership (which closes the room).
        await mal.call(COMPOSER, "typing")
        await mal.call(ROOM, "jump_to_latest")
        await mal.call(ROOM, "load_older")
        await mal.processed()
        other = await second_tab_joins_elsewhere(backend, mal)
        opened.append(other)

        # Positive control: a current member's typing reaches the admin's feed.
        watcher = await tab(backend, uniq("carol"), room)
        opened.append(watcher)
        await watcher.call(COMPOSER, "typing")
        await admin.wait_for(lambda: "typing" in (admin.var(FEED, "typing_text") or ""))
        await admin.wait_for(lambda: not admin.var(FEED, "typing_text"), timeout=10)

        await mal.call(COMPOSER, "typing")  # again, now that the typing gap has passed
        await mal.processed()  # a typing notice would be published by now, before the posts
        await post(admin, "TOP SECRET 1")
        await post(admin, "TOP SECRET 2")
        await watcher.wait_for(lambda: "TOP SECRET 2" in watcher.bodies())  # delivery works
        await mal.barrier()
        typing = [d.get(FEED, {}).get("typing_text_rx_state_") or "" for d in admin.deltas[-50:]]
        return {"seen": json.dumps(mal.received[mark:]), "typing": typing, "mal": mal_name}
    finally:
        for client in opened:
            await client.close()


def assert_nothing_reached(replay: dict) -> None:
    seen, typing, mal = replay["seen"], replay["typing"], replay["mal"]
    assert "TOP SECRET" not in seen
    assert f"{mal} was removed" not in seen
    assert not any(mal in t for t in typing), typing


async def test_kicked_member_reopening_a_socket_without_hydrate_gets_nothing(backend):
    replay = await replay_kick_on_stale_tab(backend, prove_identity=False)
    assert "TOP SECRET" not in replay["seen"]
    assert_nothing_reached(replay)


async def test_kicked_member_proving_the_session_on_a_stale_tab_gets_nothing(backend):
    replay = await replay_kick_on_stale_tab(backend, prove_identity=True)
    assert "TOP SECRET" not in replay["seen"]
    assert_nothing_reached(replay)


async def test_a_socket_without_the_cookie_then_one_with_it_does_not_survive_a_kick(backend):
    """The cookie-era form of "blank the stored token, get kicked, restore it".

    One socket of the tab without the cookie (the hub drops the tab), the
    kick, then a socket with the cookie again but no page load: the tab's
    remembered room must not come back.
    """
    room = uniq("vault")
    admin_name, mal_name = uniq("admin"), uniq("mal")
    admin = await tab(backend, admin_name, room)
    mal = await tab(backend, mal_name, room)
    cookie = mal.session_token
    opened = [admin, mal]
    try:
        await admin.wait_for(lambda: member_row(admin, mal_name) is not None, timeout=10)
        mal.session_token = ""
        await mal.reopen_without_hydrate()
        await mal.call(ROOM, "jump_to_latest")  # one event without identity: the hub drops it
        await mal.processed()
        await admin.call(ADMIN, "kick", user_id=member_row(admin, mal_name)["user_id"])
        await admin.wait_for(lambda: member_row(admin, mal_name) is None, timeout=10)
        mal.session_token = cookie
        await mal.reopen_without_hydrate()
        mark = len(mal.received)
        await mal.call(COMPOSER, "typing")  # before jump_to_latest re-checks membership
        await mal.call(ROOM, "jump_to_latest")
        await mal.processed()
        opened.append(await second_tab_joins_elsewhere(backend, mal))
        await post(admin, "TOP SECRET 3")  # returns once the admin's page shows it
        await mal.barrier()
        seen = json.dumps(mal.received[mark:])
        assert "TOP SECRET 3" not in seen
        typing = [d.get(FEED, {}).get("typing_text_rx_state_") or "" for d in admin.deltas]
        assert not any(mal_name in t for t in typing), typing
    finally:
        for client in opened:
            await client.close()


async def test_a_tab_token_alone_does_not_sign_in(backend, backend_db):
    room = uniq("vault")
    victim = await tab(backend, uniq("victim"), room)
    victim_name = victim.var(AUTH, "username")
    await post(victim, "my own words")  # positive control: the victim can post
    await victim.close()

    intruder = ReflexClient(backend.url)
    intruder.token = victim.token  # read from a proxy log, say
    try:
        await intruder.connect(f"/rooms/{room}", hydrate=False)
        forged = "posted as the victim " + uuid.uuid4().hex[:6]
        await intruder.call(COMPOSER, "send", form_data={"body": forged, "client_id": uniq("c")})
        await intruder.call(ROOM, "open_room")
        await intruder.processed()
        with backend_db.connect() as conn:
            bodies = conn.execute(sa.text("SELECT body FROM messages")).scalars().all()
        assert "my own words" in bodies
        assert forged not in bodies
        seen = json.dumps(intruder.received)
        assert "my own words" not in seen
        assert victim.session_token not in seen
        assert intruder.var(AUTH, "username") != victim_name
    finally:
        await intruder.close()
