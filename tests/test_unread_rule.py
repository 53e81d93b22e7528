"""The unread rule, written twice, pinned equal over generated rooms.

``rooms.list_my_rooms`` counts unread messages in SQL (the sidebar on a page
load); a worker's ``Hub._count_unread`` counts the same thing live from
``MESSAGE_CREATED`` events for tabs not viewing the room. Both say: messages
of kind ``user``, by someone else, after my read mark. Here the services
write random rooms (user messages by random members, system lines) to a
real database, every member gets a random read mark, and for each member
the SQL count must equal what a hub counts from the events the services
published after that mark. Mentions too: the sidebar's ``Mention`` rows after
the mark and the hub's count from ``Event.mentioned`` must agree.
"""

from __future__ import annotations

import dataclasses
import itertools

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blabber.models import Membership
from blabber.realtime import events
from blabber.realtime.broker import MemoryBroker
from blabber.realtime.events import Event
from blabber.realtime.hub import Hub
from blabber.services import accounts, messages, rooms
from tests.conftest import FAST, SQLITE_ONLY

MEMBERS = 3
ROOMY = dataclasses.replace(FAST, message_burst=10**9, join_max=10**9)
_names = itertools.count()  # examples share one database: fresh names each time

# What happens in the room, in order: ("user", who, named) sends a message naming
# some members (``@name``; -1 is ``@room``), ("system", _, _) writes a line like
# "bob joined" (what joins, leaves and kicks write).
happenings = st.lists(
    st.tuples(
        st.sampled_from(["user", "system"]),
        st.integers(0, MEMBERS - 1),
        st.sets(st.integers(-1, MEMBERS - 1), max_size=3),
    ),
    max_size=14,
)


async def _deliver_nothing(token: str, items: list[Event]) -> None:
    return None


def hub_count(user_id: int, room_id: int, published: list[Event]) -> list[int]:
    """Unread counts of two tabs of ``user_id`` (not viewing the room) after ``published``."""
    hub = Hub(MemoryBroker(), _deliver_nothing)
    tabs = [f"tab-{user_id}-{i}" for i in range(2)]
    for token in tabs:
        hub.watch(token, user_id=user_id, viewing_room=None, member_rooms=[room_id])
    for event in published:
        hub._count_unread(event)
    counted = [hub.unread.waiting.get(t, {}).get(room_id) for t in tabs]
    return [(c.count, c.mentions) if c else (0, 0) for c in counted]


@SQLITE_ONLY
@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=happenings, data=st.data())
def test_sidebar_sql_and_live_hub_count_the_same_unread_messages_and_mentions(
    session, broker, story, data
):
    n = next(_names)
    members = [
        accounts.sign_up(session, f"u{n}x{i}", "password1", settings=FAST).user_id
        for i in range(MEMBERS)
    ]
    room_id = 0
    for uid in members:  # each join writes a system line too
        room_id = rooms.join_room(session, uid, f"room {n}", settings=ROOMY).id
    for i, (kind, who, named) in enumerate(story):
        if kind == "user":
            author = members[who]
            body = " ".join([f"m{i}", *(f"@u{n}x{m}" if m >= 0 else "@room" for m in named)])
            messages.send_message(session, author, room_id, body, f"c{n}-{i}", settings=ROOMY)
        else:
            rooms.add_system_message(session, room_id, f"line {i}")
            session.commit()

    # Exactly what the services handed to the broker, as another worker's hub
    # would receive it (through the wire form).
    published = [
        Event.from_json(e.to_json())
        for e in broker.of_type(events.MESSAGE_CREATED)
        if e.room_id == room_id
    ]
    ids = [e.data["id"] for e in published]
    assert len(ids) == MEMBERS + len(story)

    # Any read mark, even one below the member's own messages: sending moves
    # the mark past them, but the two rules must agree wherever it is.
    marks = {uid: data.draw(st.sampled_from([0, *ids]), label=f"mark {uid}") for uid in members}
    for uid, mark in marks.items():
        session.exec(
            sa.update(Membership)
            .where(Membership.user_id == uid, Membership.room_id == room_id)
            .values(last_read_message_id=mark)
        )
    session.commit()

    for uid, mark in marks.items():
        [sidebar] = [
            (r.unread, r.mentions) for r in rooms.list_my_rooms(session, uid) if r.id == room_id
        ]
        after_mark = [e for e in published if e.data["id"] > mark]
        assert hub_count(uid, room_id, after_mark) == [sidebar, sidebar], (uid, mark)
