"""Events leave only after commit, exactly once (blabber.services.outbox)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from blabber.models import User
from blabber.realtime import broker as broker_mod
from blabber.realtime import events
from blabber.realtime.broker import BrokerUnavailable, MemoryBroker
from blabber.realtime.events import Event
from blabber.services import accounts, messages, rooms
from blabber.services.outbox import publish_on_commit
from tests.conftest import FAST, SQLITE_ONLY


def test_nothing_is_published_before_commit(session, broker):
    publish_on_commit(session, Event(type="x", room_id=1))
    publish_on_commit(session, Event(type="y", room_id=1))
    session.flush()
    assert broker.published == []
    session.commit()
    assert [e.type for e in broker.published] == ["x", "y"]
    session.commit()  # a second commit does not publish again
    assert len(broker.published) == 2


def test_rollback_publishes_nothing(session, broker):
    session.add(User(username="ghost", username_key="ghost", password_hash="x"))
    publish_on_commit(session, Event(type="x"))
    session.rollback()
    session.commit()
    assert broker.published == []
    assert session.get(User, 1) is None


def test_events_wait_for_the_commit_of_their_own_session(engine, broker):
    with Session(engine) as one, Session(engine) as two:
        publish_on_commit(one, Event(type="one"))
        two.commit()
        assert broker.published == []
        one.commit()
        assert [e.type for e in broker.published] == ["one"]


@SQLITE_ONLY
def test_service_publishes_after_its_commit(session, broker):
    alice = accounts.sign_up(session, "alice", "password1", settings=FAST).user_id
    room = rooms.join_room(session, alice, "general")
    broker.published.clear()
    seen_at_commit: list[int] = []

    from sqlalchemy import event as sa_event

    def before_commit(_session):
        seen_at_commit.append(len(broker.published))

    sa_event.listen(session, "before_commit", before_commit)
    try:
        messages.send_message(session, alice, room.id, "hi", "c1", settings=FAST)
    finally:
        sa_event.remove(session, "before_commit", before_commit)
    assert seen_at_commit and set(seen_at_commit) == {0}
    assert [e.type for e in broker.published] == [events.MESSAGE_CREATED]


@SQLITE_ONLY
def test_failed_service_call_publishes_nothing(session, broker):
    alice = accounts.sign_up(session, "alice", "password1", settings=FAST).user_id
    room = rooms.join_room(session, alice, "general")
    broker.published.clear()
    with pytest.raises(accounts.ServiceError):
        messages.send_message(session, alice, room.id, "x" * 5000, "c1", settings=FAST)
    session.commit()
    assert broker.published == []


@SQLITE_ONLY
def test_exactly_one_event_per_send(session, broker):
    alice = accounts.sign_up(session, "alice", "password1", settings=FAST).user_id
    room = rooms.join_room(session, alice, "general")
    broker.published.clear()
    for i in range(5):
        messages.send_message(session, alice, room.id, f"m{i}", f"c{i}", settings=FAST)
    created = broker.of_type(events.MESSAGE_CREATED)
    assert [e.data["body"] for e in created] == [f"m{i}" for i in range(5)]
    assert len(broker.published) == 5


class DownBroker(MemoryBroker):
    def publish(self, event: Event) -> None:
        raise BrokerUnavailable("redis is down")


@SQLITE_ONLY
def test_commit_survives_an_unavailable_broker(session):
    broker_mod.set_broker(DownBroker())
    try:
        alice = accounts.sign_up(session, "alice", "password1", settings=FAST).user_id
        room = rooms.join_room(session, alice, "general")
        view = messages.send_message(session, alice, room.id, "still saved", "c1", settings=FAST)
    finally:
        broker_mod.set_broker(None)
    assert messages.room_window(session, room.id, 5)[0][-1].id == view.id
