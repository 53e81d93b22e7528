"""Rooms people can find, and rooms they cannot: the directory, private rooms, Add people.

On SQLite and PostgreSQL: ``Browse rooms`` lists public rooms only; a
private room is invisible and unjoinable to anyone outside it, with the
same answers as a room that does not exist; its members bring people in,
all or nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import uuid

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from blabber.models import Membership, Message, MessageKind, Room
from blabber.realtime import events
from blabber.services import (
    accounts,
    add_people,
    conversations,
    messages,
    room_admin,
    room_creation,
    room_directory,
    rooms,
)
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from tests.conftest import FAST

ROOMY = dataclasses.replace(FAST, join_max=1000)


@pytest.fixture
def people(session):
    names = ("alice", "bob", "carol", "dave")
    return {n: accounts.sign_up(session, n, "password1", settings=FAST).user_id for n in names}


def create(session, who: int, name: str, **kw):
    return room_creation.create_room(session, who, name, settings=ROOMY, **kw)


def listed(session, who: int, query: str = "") -> list[str]:
    return [r.name for r in room_directory.browse(session, who, query)]


def test_the_directory_lists_public_rooms_only_with_their_facts(session, people):
    general = rooms.join_room(session, people["alice"], "general", settings=ROOMY)
    rooms.join_room(session, people["bob"], "general", settings=ROOMY)
    create(session, people["alice"], "Design", topic="Mockups and  reviews")
    create(session, people["alice"], "payroll", private=True)
    conversations.open_direct(session, people["alice"], ["bob"])
    assert listed(session, people["carol"]) == ["Design", "general"]  # newest activity first
    messages.send_message(session, people["bob"], general.id, "hi", uuid.uuid4().hex)
    assert listed(session, people["carol"]) == ["general", "Design"]
    [row] = [r for r in room_directory.browse(session, people["carol"]) if r.id == general.id]
    assert (row.members, row.joined, row.active) == (2, False, "active just now")
    assert [r.joined for r in room_directory.browse(session, people["bob"])] == [True, False]
    design = room_directory.browse(session, people["carol"], "REVIEW")  # name or topic, any case
    assert [(r.name, r.topic) for r in design] == [("Design", "Mockups and reviews")]
    for query in ("pay", "roll", "%", "_", ["general"], "x" * 1000):
        assert "payroll" not in listed(session, people["carol"], query)  # type: ignore[arg-type]
    assert (
        listed(session, people["carol"], "%") == [] and listed(session, people["carol"], "_") == []
    )


def test_the_directory_says_how_long_ago_a_room_was_active():
    now = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
    said = room_directory._activity
    assert said(None, now) == "no messages yet"
    assert said(now - dt.timedelta(seconds=30), now) == "active just now"
    assert said(now - dt.timedelta(minutes=1), now) == "active 1 minute ago"
    assert said((now - dt.timedelta(hours=5)).replace(tzinfo=None), now) == "active 5 hours ago"
    assert said(now - dt.timedelta(days=3), now) == "active 3 days ago"


def test_a_private_room_answers_outsiders_as_if_it_did_not_exist(session, people):
    secret = create(session, people["alice"], "payroll", private=True)
    assert secret.private and secret.url_name.startswith(rooms.PRIVATE_KEY_PREFIX)
    assert rooms.room_for_member(session, people["alice"], secret.url_name).id == secret.id
    missing = rooms.PRIVATE_KEY_PREFIX + "0" * 30
    for key in (secret.url_name, missing, secret.url_name.upper()):
        with pytest.raises(NotFound) as refused:
            rooms.room_for_member(session, people["bob"], key)
        assert refused.value.message == rooms.NO_SUCH_ROOM
    # Typing its name does what an unused name does: a new public room, bob its admin.
    joined = rooms.join_room(session, people["bob"], "payroll", settings=ROOMY)
    unused = rooms.join_room(session, people["bob"], "never-used", settings=ROOMY)
    assert joined.id != secret.id and not joined.private and not unused.private
    for room_id in (joined.id, unused.id):
        assert room_admin.list_bans(session, people["bob"], room_id) == []  # bob is admin there
    assert rooms.get_membership(session, people["bob"], secret.id) is None
    assert [r.name for r in rooms.list_my_rooms(session, people["alice"])] == ["payroll"]


def test_creating_a_room_checks_its_name_topic_and_switch(session, people):
    create(session, people["alice"], "general")
    with pytest.raises(ServiceError, match="already a room called general"):
        create(session, people["bob"], "GENERAL")
    twin = create(session, people["bob"], "general", private=True)  # private names never clash
    assert twin.name == "general" and twin.url_name != "general"
    for crafted in ("yes", 1, None, [True]):
        with pytest.raises(ServiceError, match="on or off"):
            create(session, people["bob"], "crafted", private=crafted)
    with pytest.raises(ServiceError, match="at most 250"):
        create(session, people["bob"], "wordy", topic="x" * 251)
    with pytest.raises(ServiceError, match="must be text"):
        create(session, people["bob"], "wordy", topic={"a": 1})
    names = session.exec(select(Room.name).order_by(Room.id)).all()
    assert names == ["general", "general"]  # nothing half-made by the refusals


def test_members_add_people_and_they_are_told(session, people, broker):
    secret = create(session, people["alice"], "payroll", private=True)
    broker.published.clear()
    assert add_people.add_people(session, people["alice"], secret.id, ["Bob", "bob"]) == ["bob"]
    assert rooms.room_for_member(session, people["bob"], secret.url_name).id == secret.id
    told = broker.of_type(events.MEMBERSHIP_CHANGED)
    assert [(e.room_id, e.user_id) for e in told] == [(secret.id, people["bob"])]
    lines = session.exec(
        select(Message.body).where(
            Message.room_id == secret.id, Message.kind == MessageKind.SYSTEM.value
        )
    ).all()
    assert lines[-1] == "alice added bob"
    # bob, a member now, may add too; someone already in is skipped.
    assert add_people.add_people(session, people["bob"], secret.id, ["alice", "carol"]) == ["carol"]


def test_adding_people_is_all_or_nothing_and_for_members(session, people):
    secret = create(session, people["alice"], "payroll", private=True)
    before = session.exec(select(Membership.user_id).where(Membership.room_id == secret.id)).all()
    for crafted, refusal in (
        (["bob", "nobody-here"], "No one is called nobody-here"),
        ("bob", "Pick the people"),
        ([], "Pick the people"),
        ([{"username": "bob"}], "Pick the people"),
        ([f"u{i}" for i in range(21)], "at most 20"),
    ):
        with pytest.raises(ServiceError, match=refusal):
            add_people.add_people(session, people["alice"], secret.id, crafted)
    with pytest.raises(NotAllowed):
        add_people.add_people(session, people["dave"], secret.id, ["dave"])  # not a member
    after = session.exec(select(Membership.user_id).where(Membership.room_id == secret.id)).all()
    assert after == before  # nobody was added by any refusal
    dm = conversations.open_direct(session, people["alice"], ["bob"])
    with pytest.raises(ServiceError, match="new one"):
        add_people.add_people(session, people["alice"], dm.id, ["carol"])


def test_the_admin_may_keep_adding_people_to_admins_and_bans_hold(session, people):
    room = create(session, people["alice"], "team")
    rooms.join_room(session, people["bob"], "team", settings=ROOMY)
    rooms.join_room(session, people["carol"], "team", settings=ROOMY)
    room_admin.kick_member(session, people["alice"], room.id, people["carol"])
    with pytest.raises(ServiceError, match="carol was removed"):
        add_people.add_people(session, people["bob"], room.id, ["dave", "carol"])
    assert rooms.get_membership(session, people["dave"], room.id) is None  # all or nothing
    with pytest.raises(NotAllowed, match="admin"):
        room_admin.set_add_people_admin_only(session, people["bob"], room.id, True)
    for crafted in ("yes", 1, None):
        with pytest.raises(ServiceError, match="on or off"):
            room_admin.set_add_people_admin_only(session, people["alice"], room.id, crafted)
    assert not room_admin.add_people_admin_only(session, room.id)
    assert room_admin.set_add_people_admin_only(session, people["alice"], room.id, True)
    with pytest.raises(NotAllowed, match="Only the room admin"):
        add_people.add_people(session, people["bob"], room.id, ["dave"])
    assert add_people.add_people(session, people["alice"], room.id, ["dave"]) == ["dave"]


def test_two_members_adding_the_same_person_at_once_add_them_once(engine, people):
    with Session(engine) as setup:
        secret = create(setup, people["alice"], "payroll", private=True)
        add_people.add_people(setup, people["alice"], secret.id, ["bob"])
    results: list[list[str]] = []
    barrier = threading.Barrier(2)

    def add(who: str) -> None:
        with Session(engine) as session:
            barrier.wait()
            try:
                results.append(add_people.add_people(session, people[who], secret.id, ["carol"]))
            except sa.exc.OperationalError:
                # SQLite only: a read transaction that turns writer after the
                # other committed is refused ("database is locked"); the tab
                # says "try again", and nothing was written.
                assert engine.dialect.name == "sqlite"
                results.append([])

    threads = [threading.Thread(target=add, args=(who,)) for who in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(engine) as check:
        rows = check.exec(
            select(Membership).where(
                Membership.room_id == secret.id, Membership.user_id == people["carol"]
            )
        ).all()
    assert len(rows) == 1
    assert sorted(results) == [[], ["carol"]]  # the slower one finds carol already there
