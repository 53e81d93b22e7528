"""The per-worker hub: local index, routing, batching (blabber.realtime.hub)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from blabber.realtime import events as ev
from blabber.realtime.broker import MemoryBroker
from blabber.realtime.events import UNREAD, Event
from blabber.realtime.hub import Hub


class Recorder:
    """An async ``deliver`` that records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Event]]] = []
        self.arrived = asyncio.Event()

    async def __call__(self, token: str, items: list[Event]) -> None:
        self.calls.append((token, list(items)))
        self.arrived.set()

    def to(self, token: str) -> list[list[Event]]:
        return [items for t, items in self.calls if t == token]

    def tokens(self) -> set[str]:
        return {t for t, _ in self.calls}


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def hub(rec: Recorder) -> Hub:
    """alice has two tabs (one viewing room 1), bob views room 2, carol views room 1."""
    h = Hub(MemoryBroker(), deliver=rec)
    h.watch("alice-1", user_id=1, viewing_room=1, member_rooms=[1, 2])
    h.watch("alice-2", user_id=1, viewing_room=None, member_rooms=[1, 2])
    h.watch("bob-1", user_id=2, viewing_room=2, member_rooms=[2])
    h.watch("carol-1", user_id=3, viewing_room=1, member_rooms=[1])
    return h


def msg(room_id: int, body: str = "x", author_id: int = 99, kind: str = "user") -> Event:
    data = {"id": len(body), "body": body, "kind": kind}
    return Event(type=ev.MESSAGE_CREATED, room_id=room_id, user_id=author_id, data=data)


def unread(items: list[Event]) -> dict[int, tuple[int, str]]:
    """``{room id: (count, newest body)}`` of the one UNREAD event in ``items``."""
    [event] = [e for e in items if e.type == UNREAD]
    return {r["room_id"]: (r["count"], r["last"]["body"]) for r in event.data["rooms"]}


def test_watch_forget_and_local_connections(hub):
    assert hub.local_connections() == {"alice-1": 1, "alice-2": 1, "bob-1": 2, "carol-1": 3}
    assert set(hub.viewers(1)) == {"alice-1", "carol-1"}
    hub.forget("alice-1")
    hub.forget("unknown")
    assert "alice-1" not in hub.local_connections()
    assert set(hub.viewers(1)) == {"carol-1"}
    hub.forget("alice-2")
    hub.forget("carol-1")
    assert hub.viewers(1) == {}
    assert hub.targets(msg(1)) == set()
    assert 1 not in hub._by_room  # empty index entries are dropped
    assert 1 not in hub._by_user


def test_rewatching_a_tab_replaces_its_rooms(hub):
    hub.watch("carol-1", user_id=3, viewing_room=2, member_rooms=[2])
    assert "carol-1" not in hub.viewers(1)
    assert "carol-1" in hub.viewers(2)
    assert hub.viewed_rooms() == {1, 2}


def test_prune_forgets_disconnected_tabs(hub):
    gone = hub.prune({"alice-1": "s1", "bob-1": "s2", "someone-else": "s3"})
    assert sorted(gone) == ["alice-2", "carol-1"]
    assert set(hub.local_connections()) == {"alice-1", "bob-1"}
    assert set(hub.viewers(1)) == {"alice-1"}


def test_a_registration_belongs_to_the_socket_that_made_it(hub):
    """The same tab token on a new socket (a reconnect, a token read from a log) is a stranger."""
    hub.watch("dave-1", user_id=4, viewing_room=1, member_rooms=[1], sid="sid-a")
    assert hub.registered_by("dave-1", "sid-a")
    assert not hub.registered_by("dave-1", "sid-b")
    assert not hub.registered_by("dave-1", None)
    gone = hub.prune({"alice-1": "", "alice-2": "", "bob-1": "", "carol-1": "", "dave-1": "sid-b"})
    assert gone == ["dave-1"]
    assert "dave-1" not in hub.viewers(1)


def test_message_goes_to_member_tabs_not_viewing_the_room(hub):
    """Viewers get messages from the room feed; other member tabs count them unread."""
    assert hub.targets(msg(1)) == {"alice-2"}
    assert hub.targets(msg(2)) == {"alice-1", "alice-2"}
    assert hub.targets(msg(99)) == set()


def test_typing_goes_to_room_feeds_only_and_presence_to_direct_contacts(hub):
    typing = Event(type=ev.TYPING, room_id=1, user_id=3, data={"username": "carol"})
    assert hub.targets(typing) == set()
    carol_online = {"changes": [{"user_id": 3, "online": True}], "room_ids": [1]}
    change = Event(type=ev.PRESENCE_CHANGED, data=carol_online)
    assert hub.targets(change) == set()  # nobody here has a conversation with carol
    hub.watch("bob-1", user_id=2, viewing_room=2, member_rooms=[2, 7], contacts=[3])
    assert hub.targets(change) == {"bob-1"}  # bob's sidebar shows carol's dot


def test_membership_change_goes_to_that_user_and_admin_viewers(hub):
    hub.watch("carol-1", user_id=3, viewing_room=1, member_rooms=[1])
    hub.set_admin("carol-1", True)
    joined = Event(type=ev.MEMBERSHIP_CHANGED, room_id=1, user_id=2)
    assert hub.targets(joined) == {"bob-1", "carol-1"}


def test_routing_flags_survive_rewatching_the_same_room_on_the_same_socket_only(hub):
    """``paged`` and ``is_admin`` are set by the states that own them, not by every watch."""
    for rewatch, kept in [
        (dict(viewing_room=1, sid=""), True),
        (dict(viewing_room=2, sid=""), False),
        (dict(viewing_room=1, sid="another-socket"), False),
    ]:
        hub.watch("alice-1", user_id=1, viewing_room=1, member_rooms=[1, 2])
        hub.set_history("alice-1", history=True, paged=True)
        hub.set_admin("alice-1", True)
        hub.watch("alice-1", user_id=1, member_rooms=[1, 2], **rewatch)
        tab = hub.tabs["alice-1"]
        assert (tab.history, tab.paged, tab.is_admin) == (kept, kept, kept), rewatch


def test_a_message_change_goes_to_viewers_holding_history_only(hub):
    """The feed updates its own rows for every viewer; paged-in history is per tab."""
    change = Event(type=ev.MESSAGE_CHANGED, room_id=1, user_id=2, data={"id": 5, "seq": 9})
    assert hub.targets(change) == set()
    hub.set_history("alice-1", history=True, paged=False)  # far back: still its rows
    assert hub.targets(change) == {"alice-1"}


def test_user_removed_and_session_revoked_go_to_that_users_tabs(hub):
    removed = Event(type=ev.USER_REMOVED, room_id=1, user_id=1, data={"room_name": "general"})
    assert hub.targets(removed) == {"alice-1", "alice-2"}
    assert hub.targets(Event(type=ev.SESSION_REVOKED, user_id=2)) == {"bob-1"}
    assert hub.targets(Event(type=ev.SESSION_REVOKED, user_id=None)) == set()


async def test_batch_goes_to_feeds_once_and_unread_counts_to_each_tab_once(rec):
    feed_batches: list[list[Event]] = []

    async def on_room_events(batch: list[Event]) -> None:
        feed_batches.append(list(batch))

    hub = Hub(MemoryBroker(), deliver=rec, on_room_events=on_room_events)
    hub.watch("alice-1", user_id=1, viewing_room=1, member_rooms=[1, 2])
    hub.watch("alice-2", user_id=1, viewing_room=None, member_rooms=[1, 2])
    hub.watch("bob-1", user_id=2, viewing_room=2, member_rooms=[2])
    batch = [msg(1, "a"), msg(2, "b"), msg(1, "c"), Event(type=ev.TYPING, room_id=2, user_id=1)]
    await hub.dispatch(batch)
    assert feed_batches == [batch]
    assert len(rec.calls) == 2  # one call per tab that has something of its own
    [alice_1] = rec.to("alice-1")
    assert unread(alice_1) == {2: (1, "b")}  # it views room 1: that is the feed's
    [alice_2] = rec.to("alice-2")
    assert unread(alice_2) == {1: (2, "c"), 2: (1, "b")}
    assert rec.to("bob-1") == []


async def test_unread_skips_own_messages_and_system_lines_and_coalesces_a_busy_spell(hub, rec):
    await hub.dispatch([msg(1, "mine", author_id=1), msg(1, "bob joined", kind="system")])
    assert rec.to("alice-2") == []
    await hub.dispatch([msg(1, "first")])
    assert unread(rec.to("alice-2")[0]) == {1: (1, "first")}  # leading edge: at once
    await hub.dispatch([msg(1, "second")])
    await hub.dispatch([msg(1, "third")])
    assert len(rec.to("alice-2")) == 1  # a busy spell waits for the flush
    await hub.flush_unread()
    assert len(rec.to("alice-2")) == 1  # not due yet
    hub.unread.sent_at["alice-2"] -= 10  # the interval has passed
    await hub.flush_unread()
    assert unread(rec.to("alice-2")[1]) == {1: (2, "third")}
    hub.forget("alice-2")
    assert "alice-2" not in hub.unread.waiting and "alice-2" not in hub.unread.sent_at


async def test_one_failing_tab_does_not_stop_the_others(hub, rec, caplog):
    async def deliver(token: str, items: list[Event]) -> None:
        if token == "alice-1":
            raise RuntimeError("tab gone")
        await rec(token, items)

    hub.deliver = deliver
    await hub.dispatch([msg(2)])
    assert rec.tokens() == {"alice-2"}
    assert "delivery to a tab failed" in caplog.text


async def test_a_failing_feed_does_not_stop_tab_delivery(hub, rec, caplog):
    async def broken(_batch: list[Event]) -> None:
        raise RuntimeError("feed bug")

    hub.on_room_events = broken
    await hub.dispatch([msg(2)])
    assert rec.tokens() == {"alice-1", "alice-2"}
    assert "room feed update failed" in caplog.text


async def test_run_consumes_from_the_broker(hub, rec):
    task = asyncio.create_task(hub.run())
    try:
        await asyncio.wait_for(hub.connected.wait(), 2)
        hub.broker.publish(msg(2, "hello"))
        await asyncio.wait_for(rec.arrived.wait(), 2)
        while rec.tokens() != {"alice-1", "alice-2"}:
            await asyncio.sleep(0.01)
        assert all(unread(items) == {2: (1, "hello")} for _, items in rec.calls)
        # events published together are counted together, the newest last
        rec.calls.clear()
        hub.unread.sent_at.clear()
        for body in ("1", "2", "3"):
            hub.broker.publish(msg(1, body))
        await asyncio.sleep(0.05)
        hub.unread.sent_at = {t: v - 10 for t, v in hub.unread.sent_at.items()}
        await hub.flush_unread()
        counted = [unread(items) for items in rec.to("alice-2")]
        assert sum(c[1][0] for c in counted) == 3
        assert counted[-1][1][1] == "3"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_mention_counts_apart_for_the_mentioned_tabs_only(hub, rec):
    mentioning = dataclasses.replace(msg(1, "@alice look"), mentioned=(1, 3))
    await hub.dispatch([mentioning, msg(1, "plain")])
    [alice_2] = rec.to("alice-2")
    [entry] = next(e for e in alice_2 if e.type == UNREAD).data["rooms"]
    assert (entry["count"], entry["mentions"], entry["mention"]["body"]) == (2, 1, "@alice look")
    assert rec.to("carol-1") == []  # carol views room 1: the feed shows it, highlighted
    await hub.dispatch([msg(2, "no mention")])
    hub.unread.sent_at["alice-2"] -= 10  # the coalescing interval has passed
    await hub.flush_unread()
    [later] = rec.to("alice-2")[-1]
    assert "mentions" not in later.data["rooms"][0]  # the wire stays as it was without one
