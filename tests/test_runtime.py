"""The worker's live runtime, driven with the in-memory broker and a fake transport.

Feed packets, socket rooms and per-tab frontend events all pass through the
runtime's :class:`~blabber.realtime.transport.Transport`; here it is a
recorder, so each test can say exactly what reached which socket, in order.
Membership checks use the real database (the ``engine`` fixture).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from blabber.realtime import events as ev
from blabber.realtime.broker import MemoryBroker
from blabber.realtime.events import Event
from blabber.realtime.feeds import RoomFeed
from blabber.realtime.runtime import LiveRuntime
from blabber.realtime.transport import feed_room
from blabber.services import accounts, room_admin, rooms
from blabber.services.views import MessageView
from tests.conftest import FAST, SQLITE_ONLY


class FakeTransport:
    """Records everything the runtime sends; sockets are plain strings."""

    def __init__(self) -> None:
        self.sids: dict[str, str] = {}  # tab token -> socket id
        self.rooms: dict[str, set[str]] = {}  # socket id -> feed rooms
        self.log: list[tuple[Any, ...]] = []

    def sid_of(self, token: str) -> str | None:
        return self.sids.get(token)

    def connected(self) -> dict[str, str]:
        return dict(self.sids)

    def feed_rooms_of(self, sid: str) -> list[str]:
        return sorted(self.rooms.get(sid, ()))

    async def enter(self, sid: str, room: str) -> None:
        self.rooms.setdefault(sid, set()).add(room)
        self.log.append(("enter", sid, room))

    async def leave(self, sid: str, room: str) -> None:
        self.rooms.get(sid, set()).discard(room)
        self.log.append(("leave", sid, room))

    async def send_feed(
        self, payload: dict[str, Any], *, to: str, skip: Sequence[str] | None = None
    ) -> None:
        self.log.append(("feed", to, payload))

    async def broadcast_feed(self, payload: dict[str, Any]) -> None:
        self.log.append(("feed", "*", payload))

    async def send_frontend_events(self, token: str, events: list) -> None:
        self.log.append(("events", token, events))

    def bodies_to(self, room: str) -> list[str]:
        """Message bodies sent to a feed room, in order."""
        return [
            m["body"]
            for kind, to, payload in (e for e in self.log if e[0] == "feed")
            if to == room
            for m in [*payload.get("recent", []), *payload.get("tail", [])]
        ]


async def no_tab_state(_token: str, _batch: list[Event]) -> list:
    return []


def _view(message_id: int) -> dict[str, Any]:
    return {"id": message_id, "author": "bob", "body": f"m{message_id}", "kind": "user"}


def make(apply=no_tab_state) -> tuple[LiveRuntime, FakeTransport]:
    transport = FakeTransport()
    return LiveRuntime(MemoryBroker(), transport, apply, settings=FAST), transport


async def test_a_backlog_bigger_than_the_window_reaches_viewers_in_full():
    """A worker catching up under overload gets many messages in one batch.

    Each packet holds at most the newest ``window`` messages, so one packet
    for the whole batch would roll the oldest out of the feed unseen (the
    bench's overload step counted them lost).
    """
    live, transport = make()
    feed = RoomFeed(room_id=7, room_name="ops", window=20, tail_max=6, loaded=True)
    live.feeds.feeds[7] = feed
    await live.feeds.publish_messages(7, [_view(i) for i in range(1, 131)])
    packets = [e[2] for e in transport.log if e[0] == "feed"]
    shown = {m["id"] for p in packets for m in [*p.get("recent", []), *p["tail"]]}
    assert shown == set(range(1, 131))
    assert len(packets) == 7  # 130 messages, 20 at a time
    assert feed.last_id == 130 and len(feed.messages) <= 20


async def _echoes(*, degraded: bool) -> list[int]:
    """Message ids a worker shows from ``publish_local`` alone (nothing from the broker)."""
    live, transport = make()
    live.feeds.feeds[7] = RoomFeed(room_id=7, room_name="ops", loaded=True)
    live.hub.degraded = degraded
    view = MessageView(id=41, room_id=7, author="bob", kind="user", body="hi", created_at="")
    await live.publish_local(view)
    await asyncio.sleep(0.05)  # the echo runs in the background
    return [m["id"] for e in transport.log if e[0] == "feed" for m in [*e[2].get("tail", [])]]


async def test_own_messages_come_from_the_broker_like_everyone_elses():
    """An echo would overtake older messages still queued from other workers."""
    assert await _echoes(degraded=False) == []


async def test_own_messages_are_echoed_while_the_broker_is_down():
    assert await _echoes(degraded=True) == [41]


# -- who may be in a feed --------------------------------------------------------------
@pytest.fixture
def member_room(session):
    """alice (admin) and mal in room 'vault'; returns their ids and the room id."""
    alice = accounts.sign_up(session, "alice", "password1", settings=FAST).user_id
    mal = accounts.sign_up(session, "mal", "password1", settings=FAST).user_id
    room = rooms.join_room(session, alice, "vault", settings=FAST)
    rooms.join_room(session, mal, "vault", settings=FAST)
    return alice, mal, room.id


@SQLITE_ONLY
async def test_a_member_follows_into_the_feed_and_a_removed_one_never_again(session, member_room):
    alice, mal, room_id = member_room
    live, transport = make()
    transport.sids["mal-tab"] = "sid-1"
    live.hub.watch("mal-tab", mal, room_id, [room_id], sid="sid-1")
    await live.follow("mal-tab")
    assert transport.rooms["sid-1"] == {feed_room(room_id)}  # positive control

    room_admin.kick_member(session, alice, room_id, mal)
    transport.rooms["sid-1"].clear()  # the socket closed; a new one reuses the state
    live.hub.watch("mal-tab", mal, room_id, [room_id], sid="sid-1")  # stale memory
    await live.follow("mal-tab")
    assert transport.rooms["sid-1"] == set()
    assert live.hub.tabs["mal-tab"].viewing_room is None
    assert room_id not in live.hub.tabs["mal-tab"].member_rooms


@SQLITE_ONLY
async def test_a_registration_of_an_earlier_socket_is_dropped(session, member_room):
    _alice, mal, room_id = member_room
    applied: list[str] = []

    async def apply(token: str, _batch: list[Event]) -> list:
        applied.append(token)
        return []

    live, transport = make(apply)
    live.hub.watch("mal-tab", mal, room_id, [room_id], sid="sid-old")
    transport.sids["mal-tab"] = "sid-new"  # same tab token, another socket
    await live.deliver("mal-tab", [Event(type=ev.MEMBERSHIP_CHANGED, user_id=mal)])
    assert applied == []
    assert "mal-tab" not in live.hub.tabs
    await live.follow("mal-tab")
    assert transport.rooms.get("sid-new", set()) == set()


async def test_a_removal_empties_the_feed_before_a_message_of_the_same_batch():
    live, transport = make()
    live.feeds.feeds[5] = RoomFeed(room_id=5, room_name="ops", loaded=True)
    transport.sids.update({"bob-tab": "sid-b", "carol-tab": "sid-c"})
    transport.rooms.update({"sid-b": {feed_room(5)}, "sid-c": {feed_room(5)}})
    live.hub.watch("bob-tab", 2, 5, [5], sid="sid-b")
    live.hub.watch("carol-tab", 3, 5, [5], sid="sid-c")
    batch = [
        Event(type=ev.MESSAGE_CREATED, room_id=5, data=_view(1)),  # "bob was removed by..."
        Event(type=ev.USER_REMOVED, room_id=5, user_id=2),
    ]
    await live.on_room_events(batch)
    leave = transport.log.index(("leave", "sid-b", feed_room(5)))
    first_message = next(i for i, e in enumerate(transport.log) if e[:2] == ("feed", feed_room(5)))
    assert leave < first_message
    assert transport.rooms["sid-b"] == set() and transport.rooms["sid-c"] == {feed_room(5)}
    assert live.hub.tabs["bob-tab"].viewing_room is None
    assert transport.bodies_to(feed_room(5)) == ["m1"]


async def test_a_closed_tab_earns_no_read_mark_before_it_is_pruned():
    """Messages that arrive after my tab closed were never on my screen: they stay unread.

    The hub keeps a closed tab until the next prune (a heartbeat later); only
    a viewer whose socket still holds its token counts as having read them.
    """
    live, transport = make()
    live.feeds.feeds[5] = RoomFeed(room_id=5, room_name="ops", loaded=True)
    transport.sids.update({"bob-tab": "sid-b", "carol-tab": "sid-c"})
    live.hub.watch("bob-tab", 2, 5, [5], sid="sid-b")
    live.hub.watch("carol-tab", 3, 5, [5], sid="sid-c")
    del transport.sids["carol-tab"]  # carol's socket closed; not pruned yet
    await live.feeds.publish_messages(5, [_view(1), _view(2)])
    assert live.feeds.read_marks == {(2, 5): 2}
