"""Edits, deletions and reactions reach every viewer, a tab paged back into history, and a
tab that was away, once each and in their newest version.

A feed row's change goes out as that one message (``FeedState.changes`` or
the tail); a row of a tab's paged history is replaced in that tab's own
state; a tab that reconnects reopens the room from the feed and the
database, which hold the newest versions.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.reliability.conftest import APP_ENV
from tests.support import appserver
from tests.support.reflex_client import COMPOSER, MESSAGE_ACTIONS, ROOM, ReflexClient

pytestmark = pytest.mark.timeout(120)
ENV = {
    **APP_ENV,
    "BLABBER_MESSAGE_BURST": "1000",
    "BLABBER_MESSAGE_WINDOW": "10",  # a short feed, so a tab can page past it quickly
    "BLABBER_HISTORY_PAGE_SIZE": "10",
}


def versions(client: ReflexClient) -> dict[int, tuple]:
    """What the page shows of each user message: (body, deleted, reactions)."""
    return {
        m["id"]: (
            m["body"],
            bool(m.get("deleted")),
            tuple((r["emoji"], r["count"]) for r in m.get("reactions") or []),
        )
        for m in client.messages()
        if m.get("kind") == "user"
    }


def stored_versions(db_url: str) -> dict[int, tuple]:
    """The same, read from the database."""
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, body, deleted_at IS NOT NULL FROM messages WHERE kind = 'user'")
        ).all()
        counts = conn.execute(
            sa.text(
                "SELECT message_id, emoji, COUNT(*) FROM reactions"
                " GROUP BY message_id, emoji ORDER BY MIN(id)"
            )
        ).all()
    engine.dispose()
    chips: dict[int, list] = {}
    for message_id, emoji, count in counts:
        chips.setdefault(message_id, []).append((emoji, count))
    return {i: (body, deleted, tuple(chips.get(i, []))) for i, body, deleted in rows}


async def test_changes_reach_viewers_paged_tabs_and_a_tab_that_was_away(tmp_path, stub_web_dir):
    db_url = f"sqlite:///{tmp_path / 'changes.db'}"
    appserver.migrate(db_url)
    server = appserver.start_server(
        stub_web_dir, port=appserver.free_port(), database_url=db_url, extra_env=ENV, name="changes"
    )
    alice, bob, carol = (ReflexClient(server.url) for _ in range(3))
    try:
        for client, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            await client.connect()
            await client.sign_up(name)
            await client.join("ops")
        for i in range(30):  # three feeds' worth: carol pages back past the feed
            await alice.call(
                COMPOSER, "send", form_data={"body": f"m{i:02d}", "client_id": f"c{i}"}
            )
        await alice.wait_for(lambda: "m29" in alice.bodies(), timeout=20)
        for _ in range(4):
            await carol.call(ROOM, "load_older")
            await carol.processed()
        await carol.wait_for(lambda: "m00" in carol.bodies(), timeout=20)
        ids = {body: i for i, (body, _, _) in versions(carol).items()}

        await bob.sio.disconnect()  # bob is away for all of it
        for i in range(5):  # 5 edits: old history and feed rows
            target = ids[f"m{i * 6:02d}"]
            await alice.call(MESSAGE_ACTIONS, "start_edit", message_id=target)
            await alice.call(MESSAGE_ACTIONS, "save_edit", form_data={"body": f"edited {i}"})
        for body in ("m01", "m15", "m28"):  # 3 deletions
            await alice.call(MESSAGE_ACTIONS, "delete_message", message_id=ids[body])
        for i in range(10):  # 10 reactions, some toggled back
            target = ids[["m02", "m16", "m29"][i % 3]]
            emoji = ["👍", "🎉"][i % 2]
            await alice.call(MESSAGE_ACTIONS, "toggle_reaction", message_id=target, emoji=emoji)
        await alice.processed()
        expected = stored_versions(db_url)
        assert any(d for _, d, _ in expected.values())  # the changes happened

        # carol (paged far back) and alice (at the live end) show the newest versions live.
        await carol.wait_for(lambda: versions(carol) == expected, timeout=20)
        shown_by_alice = versions(alice)
        await alice.wait_for(
            lambda: versions(alice) == {i: expected[i] for i in shown_by_alice}, timeout=20
        )
        # bob comes back and pages to the start: every version is the newest, once.
        await bob.reconnect()
        await bob.wait_for(lambda: "m29" in bob.bodies() or "edited 4" in bob.bodies())
        for _ in range(4):
            await bob.call(ROOM, "load_older")
            await bob.processed()
        await bob.wait_for(lambda: versions(bob) == expected, timeout=20)
        ids_shown = [m["id"] for m in bob.messages()]
        assert ids_shown == sorted(set(ids_shown))
    finally:
        for client in (alice, bob, carol):
            await client.close()
        server.stop()
