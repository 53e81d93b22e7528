"""The per-worker hub: local index, routing, batching (blabber.realtime.hub)."""

from __future__ import annotations

import asyncio

import pytest

from blabber.realtime import events as ev
from blabber.realtime.broker import MemoryBroker
from blabber.realtime.events import Event
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


def msg(room_id: int, body: str = "x") -> Event:
    return Event(type=ev.MESSAGE_CREATED, room_id=room_id, data={"body": body})


def test_watch_forget_and_local_connections(hub):
    assert hub.local_connections() == {"alice-1": 1, "alice-2": 1, "bob-1": 2, "carol-1": 3}
    hub.forget("alice-1")
    hub.forget("unknown")
    assert "alice-1" not in hub.local_connections()
    assert hub.targets(msg(1)) == {"alice-2", "carol-1"}
    hub.forget("alice-2")
    hub.forget("carol-1")
    assert hub.targets(msg(1)) == set()
    assert 1 not in hub._by_room  # empty index entries are dropped
    assert 1 not in hub._by_user


def test_rewatching_a_tab_replaces_its_rooms(hub):
    hub.watch("carol-1", user_id=3, viewing_room=2, member_rooms=[2])
    assert "carol-1" not in hub.targets(msg(1))
    assert "carol-1" in hub.targets(msg(2))


def test_prune_forgets_disconnected_tabs(hub):
    gone = hub.prune({"alice-1", "bob-1", "someone-else"})
    assert sorted(gone) == ["alice-2", "carol-1"]
    assert set(hub.local_connections()) == {"alice-1", "bob-1"}
    assert hub.targets(msg(1)) == {"alice-1"}


def test_message_goes_to_tabs_of_room_members(hub):
    assert hub.targets(msg(1)) == {"alice-1", "alice-2", "carol-1"}
    assert hub.targets(msg(2)) == {"alice-1", "alice-2", "bob-1"}
    assert hub.targets(msg(99)) == set()


def test_typing_goes_only_to_viewers_of_the_room_and_not_the_typer(hub):
    typing = Event(type=ev.TYPING, room_id=1, user_id=3, data={"username": "carol"})
    assert hub.targets(typing) == {"alice-1"}
    typing_bob = Event(type=ev.TYPING, room_id=2, user_id=2, data={"username": "bob"})
    assert hub.targets(typing_bob) == set()


def test_user_removed_and_session_revoked_go_to_that_users_tabs(hub):
    removed = Event(type=ev.USER_REMOVED, room_id=1, user_id=1, data={"room_name": "general"})
    assert hub.targets(removed) == {"alice-1", "alice-2"}
    assert hub.targets(Event(type=ev.SESSION_REVOKED, user_id=2)) == {"bob-1"}
    assert hub.targets(Event(type=ev.SESSION_REVOKED, user_id=None)) == set()


def test_presence_goes_to_tabs_viewing_an_affected_room(hub):
    change = Event(type=ev.PRESENCE_CHANGED, data={"changes": [], "room_ids": [1]})
    assert hub.targets(change) == {"alice-1", "carol-1"}


async def test_batch_is_delivered_once_per_tab_in_order(hub, rec):
    batch = [msg(1, "a"), msg(2, "b"), msg(1, "c"), Event(type=ev.TYPING, room_id=2, user_id=1)]
    await hub.dispatch(batch)
    assert len(rec.calls) == 4  # one call per tab
    assert [[e.data.get("body") for e in items] for items in rec.to("alice-1")] == [["a", "b", "c"]]
    assert [[e.data.get("body") for e in items] for items in rec.to("bob-1")] == [["b", None]]
    assert [[e.data.get("body") for e in items] for items in rec.to("carol-1")] == [["a", "c"]]


async def test_one_failing_tab_does_not_stop_the_others(hub, rec, caplog):
    async def deliver(token: str, items: list[Event]) -> None:
        if token == "alice-1":
            raise RuntimeError("tab gone")
        await rec(token, items)

    hub.deliver = deliver
    await hub.dispatch([msg(1)])
    assert rec.tokens() == {"alice-2", "carol-1"}
    assert "delivery to a tab failed" in caplog.text


async def test_run_consumes_from_the_broker(hub, rec):
    task = asyncio.create_task(hub.run())
    try:
        await asyncio.wait_for(hub.connected.wait(), 2)
        hub.broker.publish(msg(2, "hello"))
        await asyncio.wait_for(rec.arrived.wait(), 2)
        while rec.tokens() != {"alice-1", "alice-2", "bob-1"}:
            await asyncio.sleep(0.01)
        assert all([e.data["body"] for e in items] == ["hello"] for _, items in rec.calls)
        # events published together arrive together, in order
        rec.calls.clear()
        for body in ("1", "2", "3"):
            hub.broker.publish(msg(1, body))
        await asyncio.sleep(0.05)
        bodies = [e.data["body"] for items in rec.to("carol-1") for e in items]
        assert bodies == ["1", "2", "3"]
        assert len(rec.to("carol-1")) == 1
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
