"""A tab that was away shows every message it missed, once, in order.

The room feed's packets carry a catch-up cursor (``FeedState.seen``, "room:id")
that the browser keeps in sessionStorage and hands back when it reconnects
(``state.js`` hydrates client storage); opening the room then shows everything
after it: from the feed when the absence was short, paging the gap from the
database when it was longer than the feed holds. The protocol client re-sends
its storage exactly as the browser does (``ReflexClient.storage``).
"""

from __future__ import annotations

import pytest

from tests.reliability.conftest import APP_ENV, FEED
from tests.support import appserver
from tests.support.reflex_client import COMPOSER, ReflexClient

pytestmark = pytest.mark.timeout(90)
ENV = {
    **APP_ENV,
    "BLABBER_MESSAGE_BURST": "1000",
    "BLABBER_MESSAGE_WINDOW": "10",  # a short feed, so a long absence outruns it
    "BLABBER_HISTORY_PAGE_SIZE": "10",
}


def user_bodies(client: ReflexClient) -> list[str]:
    """What the page lists, in order, as ``components/chat.py`` renders it."""
    return [m["body"] for m in client.messages() if m.get("kind") == "user"]


def assert_ordered_once(client: ReflexClient) -> None:
    ids = [m["id"] for m in client.messages()]
    assert ids == sorted(set(ids)), f"duplicate or out of order: {ids}"


async def send_all(client: ReflexClient, bodies: list[str]) -> None:
    for body in bodies:
        client_id = body.replace(" ", "-")
        await client.call(COMPOSER, "send", form_data={"body": body, "client_id": client_id})
    await client.wait_for(lambda: bodies[-1] in user_bodies(client), timeout=20)


async def test_reconnected_tab_shows_every_missed_message_once_in_order(tmp_path, stub_web_dir):
    db_url = f"sqlite:///{tmp_path / 'catchup.db'}"
    appserver.migrate(db_url)
    server = appserver.start_server(
        stub_web_dir, port=appserver.free_port(), database_url=db_url, extra_env=ENV, name="catchup"
    )
    alice, bob, carol = (ReflexClient(server.url) for _ in range(3))
    try:
        for client, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            await client.connect()
            await client.sign_up(name)
            await client.join("ops")
        await send_all(alice, ["before 1", "before 2"])
        for tab in (bob, carol):
            await tab.wait_for(lambda t=tab: "before 2" in user_bodies(t), timeout=20)

        # A short absence (within the feed): bob's socket drops, alice sends 5.
        await bob.sio.disconnect()
        short = [f"short {i}" for i in range(5)]
        await send_all(alice, short)
        await bob.reconnect()
        await bob.wait_for(lambda: short[-1] in user_bodies(bob), timeout=20)
        assert user_bodies(bob)[-7:] == ["before 1", "before 2", *short]
        assert_ordered_once(bob)

        # A long absence (35 messages, far more than the 10-message feed): bob
        # and carol drop; only bob's browser kept its cursor (carol's storage
        # is wiped, like a new tab), so carol shows just the newest page.
        await bob.sio.disconnect()
        await carol.sio.disconnect()
        carol.state.pop(FEED, None)
        long = [f"long {i:02d}" for i in range(35)]
        await send_all(alice, long)
        await bob.reconnect()
        await carol.reconnect()
        for tab in (bob, carol):
            await tab.wait_for(lambda t=tab: long[-1] in user_bodies(t), timeout=20)
            await tab.settle(0.3)

        assert user_bodies(bob)[-35:] == long, user_bodies(bob)
        assert_ordered_once(bob)
        assert user_bodies(carol) == long[-10:]  # without the cursor: the newest page only

        # And live again afterwards, appended once after the caught-up part.
        await send_all(alice, ["live after"])
        await bob.wait_for(lambda: "live after" in user_bodies(bob), timeout=20)
        assert user_bodies(bob)[-36:] == [*long, "live after"]
        assert_ordered_once(bob)
    finally:
        for client in (alice, bob, carol):
            await client.close()
        server.stop()
