"""``Room settings`` (services.room_settings), on SQLite and PostgreSQL.

Only the room's admin changes a room; each change is whole or nothing,
tells the members (``ROOM_CHANGED``), and old links keep leading members
(and only members) to a renamed room.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlmodel import select

from blabber.models import Membership, Mention, Message, MessageKind, Reaction, Room
from blabber.realtime import events
from blabber.services import (
    accounts,
    conversations,
    messages,
    reactions,
    room_creation,
    room_directory,
    room_settings,
    rooms,
)
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from tests.conftest import FAST

ROOMY = dataclasses.replace(FAST, join_max=1000, message_burst=1000)


@pytest.fixture
def people(session):
    names = ("alice", "bob", "carol")
    return {n: accounts.sign_up(session, n, "password1", settings=FAST).user_id for n in names}


@pytest.fixture
def design(session, people):
    """``design``: alice its admin, bob a member."""
    room = rooms.join_room(session, people["alice"], "design", settings=ROOMY)
    rooms.join_room(session, people["bob"], "design", settings=ROOMY)
    return room.id


def system_lines(session, room_id: int) -> list[str]:
    rows = session.exec(
        select(Message.body)
        .where(Message.room_id == room_id, Message.kind == MessageKind.SYSTEM.value)
        .order_by(Message.id)
    ).all()
    return list(rows)


def test_only_the_admin_changes_a_room(session, people, design):
    for change, value in (
        (room_settings.set_topic, "hijacked"),
        (room_settings.rename_room, "hijacked"),
        (room_settings.set_private, True),
    ):
        with pytest.raises(NotAllowed, match="admin"):
            change(session, people["bob"], design, value)
        with pytest.raises(NotAllowed):
            change(session, people["carol"], design, value)  # not even a member
    with pytest.raises(NotAllowed):
        room_settings.delete_room(session, people["bob"], design)
    room = session.get(Room, design)
    assert (room.name, room.description, room.is_private) == ("design", None, False)
    dm = conversations.open_direct(session, people["alice"], ["bob"])
    with pytest.raises(NotAllowed):  # a conversation has no admin
        room_settings.rename_room(session, people["alice"], dm.id, "ours")


def test_the_topic_is_set_and_said(session, people, design, broker):
    broker.published.clear()
    summary = room_settings.set_topic(session, people["alice"], design, "  Mockups\nand reviews ")
    assert summary.topic == "Mockups and reviews"
    assert system_lines(session, design)[-1] == "alice set the topic: Mockups and reviews"
    [told] = broker.of_type(events.ROOM_CHANGED)
    assert told.room_id == design and told.data["topic"] == "Mockups and reviews"
    with pytest.raises(ServiceError, match="at most 250"):
        room_settings.set_topic(session, people["alice"], design, "x" * 251)
    room_settings.set_topic(session, people["alice"], design, "")
    assert system_lines(session, design)[-1] == "alice cleared the topic"
    assert session.get(Room, design).description is None


def test_a_renamed_room_keeps_its_old_links_for_members_only(session, people, design, broker):
    broker.published.clear()
    renamed = room_settings.rename_room(session, people["alice"], design, "Product Design")
    assert renamed.url_name == "Product Design"
    assert (
        system_lines(session, design)[-1] == "alice renamed the room from design to Product Design"
    )
    assert broker.of_type(events.ROOM_CHANGED)[0].data["url_name"] == "Product Design"
    # The old name leads bob (a member) to the room, under its new URL.
    via_old = rooms.room_for_member(session, people["bob"], "design")
    assert (via_old.id, via_old.url_name) == (design, "Product Design")
    with pytest.raises(NotFound):  # carol: what a missing room answers
        rooms.room_for_member(session, people["carol"], "design")
    # The old name is free: whoever takes it gets a new room, and old links lead there.
    taken = rooms.join_room(session, people["carol"], "design", settings=ROOMY)
    assert taken.id != design
    assert rooms.room_for_member(session, people["carol"], "design").id == taken.id
    with pytest.raises(ServiceError, match="already a room called design"):
        room_settings.rename_room(session, people["alice"], design, "DESIGN")
    with pytest.raises(ServiceError, match="Room names are"):
        room_settings.rename_room(session, people["alice"], design, "bad~name")
    assert session.get(Room, design).name == "Product Design"  # nothing half-done


def test_making_a_room_private_takes_it_out_of_sight(session, people, design):
    before = rooms.room_for_member(session, people["bob"], "design")
    made = room_settings.set_private(session, people["alice"], design, True)
    assert made.private and made.url_name.startswith(rooms.PRIVATE_KEY_PREFIX)
    assert made.url_name != before.url_name
    assert "design" not in [r.name for r in room_directory.browse(session, people["carol"])]
    assert rooms.room_for_member(session, people["bob"], "design").url_name == made.url_name
    with pytest.raises(NotFound):
        rooms.room_for_member(session, people["carol"], "design")
    assert rooms.join_room(session, people["carol"], "design", settings=ROOMY).id != design
    assert system_lines(session, design)[-1] == "alice made the room private"
    # Back to public: only while no public room has its name.
    with pytest.raises(ServiceError, match="rename this one first"):
        room_settings.set_private(session, people["alice"], design, False)
    room_settings.rename_room(session, people["alice"], design, "design-team")
    public = room_settings.set_private(session, people["alice"], design, False)
    assert public.url_name == "design-team" and not public.private
    for crafted in ("yes", 1, None):
        with pytest.raises(ServiceError, match="on or off"):
            room_settings.set_private(session, people["alice"], design, crafted)


def test_deleting_a_room_removes_everything_in_it_and_tells_its_members(
    session, people, design, broker
):
    sent = messages.send_message(session, people["bob"], design, "@alice hi", uuid.uuid4().hex)
    reactions.toggle_reaction(session, people["alice"], sent.id, "👍")
    reply = messages.send_message(
        session, people["alice"], design, "hello", uuid.uuid4().hex, reply_to_id=sent.id
    )
    other = room_creation.create_room(session, people["alice"], "elsewhere", settings=ROOMY)
    kept = messages.send_message(session, people["alice"], other.id, "stays", uuid.uuid4().hex)
    broker.published.clear()
    assert room_settings.delete_room(session, people["alice"], design) == "design"
    assert session.get(Room, design) is None
    for model, column in ((Message, Message.room_id), (Membership, Membership.room_id)):
        assert session.exec(select(model).where(column == design)).all() == []
    assert session.exec(select(Reaction).where(Reaction.message_id == sent.id)).all() == []
    assert session.exec(select(Mention).where(Mention.room_id == design)).all() == []
    assert session.get(Message, reply.id) is None and session.get(Message, kept.id) is not None
    [told] = broker.of_type(events.ROOM_CHANGED)
    assert told.room_id == design and told.data["deleted"] is True
    assert [r.name for r in rooms.list_my_rooms(session, people["bob"])] == []


def test_saving_the_settings_is_all_or_nothing(session, people, design, broker):
    lines = system_lines(session, design)
    with pytest.raises(ServiceError, match="on or off"):  # refused last, after name and topic
        room_settings.update_room(
            session, people["alice"], design, name="renamed", topic="new topic", private="yes"
        )
    session.rollback()  # what leaving the service's session without a commit does
    room = session.get(Room, design)
    assert (room.name, room.description) == ("design", None)  # neither stuck
    assert system_lines(session, design) == lines
    assert rooms.room_for_member(session, people["bob"], "design").id == design
    broker.published.clear()
    saved = room_settings.update_room(
        session, people["alice"], design, name="design", topic="new topic", private=True
    )
    assert saved.topic == "new topic" and saved.private
    assert len(broker.of_type(events.ROOM_CHANGED)) == 1  # one event for the whole save
