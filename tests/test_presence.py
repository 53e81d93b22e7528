"""Who is online, across tabs and workers (blabber.services.presence)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Session, select

from blabber.models import PresenceConnection, utcnow
from blabber.realtime import events
from blabber.services import accounts, presence, rooms
from tests.conftest import FAST, SQLITE_ONLY

TTL = 45


def user(session: Session, name: str) -> int:
    return accounts.sign_up(session, name, "password1", settings=FAST).user_id


def rows(session: Session) -> dict[str, tuple[int, str]]:
    session.rollback()
    return {
        r.client_token: (r.user_id, r.worker_id)
        for r in session.exec(select(PresenceConnection)).all()
    }


def test_sync_inserts_refreshes_and_deletes(session, broker):
    alice, bob = user(session, "alice"), user(session, "bob")
    changes = presence.sync_worker(session, "w1", {"t1": alice, "t2": bob}, TTL)
    assert changes == {alice: True, bob: True}
    assert rows(session) == {"t1": (alice, "w1"), "t2": (bob, "w1")}
    first = session.get(PresenceConnection, "t1").heartbeat_at
    assert presence.sync_worker(session, "w1", {"t1": alice, "t2": bob}, TTL) == {}
    session.rollback()
    assert session.get(PresenceConnection, "t1", populate_existing=True).heartbeat_at > first
    assert presence.sync_worker(session, "w1", {"t1": alice}, TTL) == {bob: False}
    assert rows(session) == {"t1": (alice, "w1")}
    assert presence.online_user_ids(session, [alice, bob], TTL) == {alice}


def test_several_tabs_are_one_online_user(session, broker):
    alice = user(session, "alice")
    assert presence.sync_worker(session, "w1", {"a": alice, "b": alice, "c": alice}, TTL) == {
        alice: True
    }
    assert presence.sync_worker(session, "w1", {"a": alice, "b": alice}, TTL) == {}
    assert presence.sync_worker(session, "w2", {"z": alice}, TTL) == {}
    assert presence.sync_worker(session, "w1", {}, TTL) == {}  # still open on w2
    assert presence.sync_worker(session, "w2", {}, TTL) == {alice: False}
    assert rows(session) == {}
    assert presence.online_user_ids(session, [alice], TTL) == set()


def test_presence_event_is_published_with_the_users_rooms(session, broker):
    alice, bob = user(session, "alice"), user(session, "bob")
    general = rooms.join_room(session, alice, "general").id
    dev = rooms.join_room(session, alice, "dev").id
    rooms.join_room(session, bob, "random")
    broker.published.clear()
    presence.sync_worker(session, "w1", {"t1": alice}, TTL)
    [event] = broker.published
    assert event.type == events.PRESENCE_CHANGED
    assert event.data == {
        "changes": [{"user_id": alice, "online": True}],
        "room_ids": sorted([general, dev]),
    }
    presence.sync_worker(session, "w1", {"t1": alice}, TTL)
    assert len(broker.published) == 1  # no change, no event
    presence.sync_worker(session, "w1", {}, TTL)
    assert broker.published[-1].data["changes"] == [{"user_id": alice, "online": False}]


def test_dead_workers_rows_expire_and_are_reported_offline(session, broker):
    alice, bob = user(session, "alice"), user(session, "bob")
    room = rooms.join_room(session, alice, "general").id
    presence.sync_worker(session, "dead", {"d1": alice, "d2": alice}, TTL)
    presence.sync_worker(session, "alive", {"b1": bob}, TTL)
    # the "dead" worker stops heartbeating
    old = utcnow() - dt.timedelta(seconds=TTL + 1)
    session.exec(
        sa.update(PresenceConnection)
        .where(PresenceConnection.worker_id == "dead")
        .values(heartbeat_at=old)
    )
    session.commit()
    assert presence.online_user_ids(session, [alice, bob], TTL) == {bob}
    broker.published.clear()
    assert presence.sync_worker(session, "alive", {"b1": bob}, TTL) == {alice: False}
    assert rows(session) == {"b1": (bob, "alive")}
    [event] = broker.of_type(events.PRESENCE_CHANGED)
    assert event.data == {"changes": [{"user_id": alice, "online": False}], "room_ids": [room]}
    # reported once only
    assert presence.sync_worker(session, "alive", {"b1": bob}, TTL) == {}


@SQLITE_ONLY
def test_tab_reconnecting_to_another_worker_moves_its_row(session, broker):
    alice = user(session, "alice")
    presence.sync_worker(session, "w1", {"t1": alice}, TTL)
    assert presence.sync_worker(session, "w2", {"t1": alice}, TTL) == {}
    assert rows(session) == {"t1": (alice, "w2")}
    assert presence.sync_worker(session, "w1", {}, TTL) == {}  # w1 no longer owns it
    assert rows(session) == {"t1": (alice, "w2")}
