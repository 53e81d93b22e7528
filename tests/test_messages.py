"""Sending and reading messages (blabber.services.messages)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import Session, func, select

from blabber.models import Message
from blabber.realtime import events
from blabber.services import accounts, messages, rooms
from blabber.services.errors import NotAllowed, ServiceError
from blabber.settings import Settings
from tests.conftest import FAST, SQLITE_ONLY

ROOMY = dataclasses.replace(FAST, message_burst=1000)


def user(session: Session, name: str) -> int:
    return accounts.sign_up(session, name, "password1", settings=FAST).user_id


def count_messages(session: Session) -> int:
    session.rollback()
    return session.exec(select(func.count()).select_from(Message)).one()


@pytest.fixture
def room(session):
    """alice and bob in "general"; returns (alice, bob, room_id)."""
    alice, bob = user(session, "alice"), user(session, "bob")
    room = rooms.join_room(session, alice, "general")
    rooms.join_room(session, bob, "general")
    return alice, bob, room.id


def test_send_stores_and_returns_view(session, room, broker):
    alice, _, room_id = room
    broker.published.clear()
    view = messages.send_message(session, alice, room_id, "  hello  \n", "c-1", settings=FAST)
    assert (view.author, view.body, view.kind, view.client_id) == ("alice", "hello", "user", "c-1")
    stored = session.get(Message, view.id)
    assert (stored.body, stored.author_id, stored.room_id) == ("hello", alice, room_id)
    assert view.created_at.endswith("+00:00")
    [event] = broker.published
    assert event.type == events.MESSAGE_CREATED
    assert event.room_id == room_id
    assert event.data == view.as_row()
    assert "reactions" not in event.data  # a plain message sends no empty optional fields


def test_paging_backwards_reaches_the_beginning_without_gaps_or_repeats(session, room):
    alice, bob, room_id = room
    for i in range(35):
        author = alice if i % 2 else bob
        messages.send_message(session, author, room_id, f"m{i}", f"c{i}", settings=ROOMY)
    all_ids = list(
        session.exec(select(Message.id).where(Message.room_id == room_id).order_by(Message.id))
    )
    assert len(all_ids) == 37  # 35 + "alice joined" + "bob joined"
    page, _ = messages.room_window(session, room_id, 10)
    seen = [m.id for m in page]
    pages = 1
    while True:
        page = messages.messages_before(session, alice, room_id, seen[0], 10)
        if not page:
            break
        ids = [m.id for m in page]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert ids[-1] < seen[0]
        seen = ids + seen
        pages += 1
    assert seen == all_ids
    assert pages == 4
    assert messages.messages_before(session, alice, room_id, all_ids[0], 10) == []


@SQLITE_ONLY
def test_page_size_is_clamped(session, room):
    alice, _, room_id = room
    for limit, shown in ((0, 1), (-5, 1), (10**6, 2)):
        assert len(messages.messages_before(session, alice, room_id, 10**9, limit)) == shown
        window, has_older = messages.room_window(session, room_id, limit)
        assert (len(window), has_older) == (shown, shown == 1)


def test_non_member_can_neither_send_nor_read(session, room, broker):
    alice, _, room_id = room
    carol = user(session, "carol")
    before = count_messages(session)
    broker.published.clear()
    with pytest.raises(NotAllowed, match=r"^You are not a member of that room$"):
        messages.send_message(session, carol, room_id, "hi", "c1", settings=FAST)
    for read in (
        lambda: rooms.room_for_member(session, carol, "general"),  # opening the room
        lambda: messages.messages_before(session, carol, room_id, 10**6, 10),  # paging back
    ):
        with pytest.raises(NotAllowed):
            read()
    assert count_messages(session) == before
    assert broker.published == []
    assert alice


@SQLITE_ONLY
def test_empty_and_whitespace_messages_are_refused(session, room, broker):
    alice, _, room_id = room
    before = count_messages(session)
    broker.published.clear()
    for body in ["", "   ", "\n\t \r\n", "\u3000"]:
        with pytest.raises(ServiceError, match=r"^Message is empty$"):
            messages.send_message(session, alice, room_id, body, "c1", settings=FAST)
    assert count_messages(session) == before
    assert broker.published == []


@SQLITE_ONLY
def test_length_limit_is_4000_characters(session, room, broker):
    alice, _, room_id = room
    before = count_messages(session)
    broker.published.clear()
    with pytest.raises(ServiceError) as err:
        messages.send_message(session, alice, room_id, "x" * 4001, "c1", settings=FAST)
    assert str(err.value) == "Message is too long (4,001 characters; the limit is 4,000)"
    assert count_messages(session) == before
    assert broker.published == []
    ok = messages.send_message(session, alice, room_id, "é" * 4000, "c2", settings=FAST)
    assert session.get(Message, ok.id).body == "é" * 4000
    # surrounding whitespace does not count against the limit
    messages.send_message(session, alice, room_id, " " + "x" * 4000 + " ", "c3", settings=FAST)


@SQLITE_ONLY
def test_malformed_bodies_and_client_ids_are_refused(session, room):
    alice, _, room_id = room
    before = count_messages(session)
    cases = [
        ("a\x00b", "c1", "Message cannot contain NUL characters"),
        ("bad \ud800 text", "c1", "Message contains characters that cannot be stored"),
        (123, "c1", "Message must be text"),
        ("hi", "", "Invalid message id; reload the page"),
        ("hi", "has space", "Invalid message id; reload the page"),
        ("hi", "x" * 65, "Invalid message id; reload the page"),
        ("hi", None, "Invalid message id; reload the page"),
    ]
    for body, client_id, message in cases:
        with pytest.raises(ServiceError) as err:
            messages.send_message(session, alice, room_id, body, client_id, settings=FAST)
        assert str(err.value) == message
    assert count_messages(session) == before


def test_retried_send_is_idempotent_and_published_once(session, room, broker):
    alice, _, room_id = room
    broker.published.clear()
    first = messages.send_message(session, alice, room_id, "hello", "same-id", settings=FAST)
    again = messages.send_message(session, alice, room_id, "hello", "same-id", settings=FAST)
    assert again == first
    session.commit()
    assert len(broker.of_type(events.MESSAGE_CREATED)) == 1
    assert len(broker.published) == 1
    assert (
        session.exec(
            select(func.count()).select_from(Message).where(Message.client_id == "same-id")
        ).one()
        == 1
    )


def test_client_id_is_per_author_and_cannot_move_rooms(session, room):
    alice, bob, room_id = room
    a = messages.send_message(session, alice, room_id, "hello", "same-id", settings=FAST)
    b = messages.send_message(session, bob, room_id, "hello", "same-id", settings=FAST)
    assert a.id != b.id
    other = rooms.join_room(session, alice, "other")
    with pytest.raises(ServiceError, match=r"^Invalid message id; reload the page$"):
        messages.send_message(session, alice, other.id, "hello", "same-id", settings=FAST)


def test_rate_limit_refuses_a_burst(session, room, broker):
    alice, bob, room_id = room
    tight = dataclasses.replace(FAST, message_burst=3, message_burst_seconds=60)
    for i in range(3):
        messages.send_message(session, alice, room_id, f"m{i}", f"c{i}", settings=tight)
    before = count_messages(session)
    broker.published.clear()
    with pytest.raises(ServiceError) as err:
        messages.send_message(session, alice, room_id, "one more", "c9", settings=tight)
    assert str(err.value) == "You are sending messages too fast; wait a few seconds"
    assert count_messages(session) == before
    assert broker.published == []
    # a retry of an accepted send is not a new message, and bob has his own budget
    messages.send_message(session, alice, room_id, "m0", "c0", settings=tight)
    messages.send_message(session, bob, room_id, "hi", "b1", settings=tight)


def test_messages_stay_in_their_room(session, room):
    alice, _, room_a = room
    room_b = rooms.join_room(session, alice, "other").id
    secret = messages.send_message(session, alice, room_a, "only in A", "c1", settings=FAST)
    views_b, _ = messages.room_window(session, room_b, 100)
    assert all(m.room_id == room_b for m in views_b)
    assert secret.id not in {m.id for m in views_b}
    assert messages.messages_before(session, alice, room_b, 10**9, 100) == views_b
    assert secret.id in {m.id for m in messages.room_window(session, room_a, 100)[0]}


@SQLITE_ONLY
def test_sending_marks_my_own_message_read(session, room):
    alice, _, room_id = room
    view = messages.send_message(session, alice, room_id, "hi", "c1", settings=FAST)
    assert rooms.get_membership(session, alice, room_id).last_read_message_id == view.id


def test_room_window_is_the_newest_messages_and_says_if_more_exist(session, room):
    alice, _, room_id = room
    sent = [
        messages.send_message(session, alice, room_id, f"w{i}", f"w{i}", settings=ROOMY).id
        for i in range(6)
    ]
    window, has_older = messages.room_window(session, room_id, 4)
    assert [m.id for m in window] == sent[-4:]
    assert has_older
    everything, has_older = messages.room_window(session, room_id, 50)
    assert [m.id for m in everything][-6:] == sent
    assert not has_older  # the two "joined" lines and six messages: all of it


def test_mark_read_many_moves_marks_forward_only_and_only_for_members(session, room):
    alice, bob, room_id = room
    first = messages.send_message(session, alice, room_id, "one", "r1", settings=ROOMY).id
    second = messages.send_message(session, alice, room_id, "two", "r2", settings=ROOMY).id
    outsider = user(session, "carol")
    messages.mark_read_many(session, {(bob, room_id): second, (outsider, room_id): second})
    assert rooms.require_member(session, bob, room_id).last_read_message_id == second
    messages.mark_read_many(session, {(bob, room_id): first})  # never backward
    session.expire_all()
    assert rooms.require_member(session, bob, room_id).last_read_message_id == second
    with pytest.raises(NotAllowed):
        rooms.require_member(session, outsider, room_id)  # no membership was created
    assert [r.unread for r in rooms.list_my_rooms(session, bob)] == [0]
    messages.mark_read_many(session, {})  # nothing to do is fine


def test_shipped_pace_lets_a_person_send_twenty_quick_messages(session, room):
    """Pasting lines or quick replies: 20 at once pass; a 21st within the window is refused."""
    alice, _bob, room_id = room
    shipped = Settings()  # the defaults as shipped, bcrypt aside (not used here)
    for i in range(20):
        messages.send_message(session, alice, room_id, f"line {i}", f"q{i}", settings=shipped)
    with pytest.raises(ServiceError, match="too fast"):
        messages.send_message(session, alice, room_id, "line 20", "q20", settings=shipped)
    assert shipped.message_burst / shipped.message_burst_seconds < 3.5  # flooding is refused
