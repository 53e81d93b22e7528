"""Rooms, memberships, admin rights, bans, system lines and unread counts."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from blabber.models import JoinAttempt, Membership, Message, MessageKind, Room, RoomBan, utcnow
from blabber.realtime import events
from blabber.services import accounts, messages, room_admin, room_members, rooms
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from tests.conftest import FAST, SQLITE_ONLY

NAME_RULE = "Room names are 1–40 characters: letters, digits, spaces, - or _"


def user(session: Session, name: str) -> int:
    return accounts.sign_up(session, name, "password1", settings=FAST).user_id


def snapshot(session: Session) -> tuple:
    """Every row that room actions can change, to prove a refusal changed nothing."""
    session.rollback()
    return tuple(
        sorted(tuple(r) for r in session.exec(select(*model.__table__.c)).all())
        for model in (Room, Membership, RoomBan, Message)
    )


def system_lines(session: Session, room_id: int) -> list[str]:
    return list(
        session.exec(
            select(Message.body)
            .where(Message.room_id == room_id, Message.kind == MessageKind.SYSTEM.value)
            .order_by(Message.id)
        ).all()
    )


def members(session: Session, room_id: int) -> list[tuple[str, str]]:
    """(name, role) of everyone in the room, as its Members panel lists them."""
    shown, count = room_members.members_panel(session, room_id, frozenset(), limit=1000)
    assert count == len(shown)
    return [(m.username, m.role) for m in shown]


def roles(session: Session, room_id: int) -> dict[str, str]:
    return dict(members(session, room_id))


@pytest.fixture
def trio(session):
    return user(session, "alice"), user(session, "bob"), user(session, "carol")


def test_join_creates_room_with_creator_as_admin(session, trio, broker):
    alice, bob, _ = trio
    room = rooms.join_room(session, alice, "General")
    assert room.name == "General"
    same = rooms.join_room(session, bob, "  general ")
    assert same.id == room.id
    assert same.name == "General"
    assert session.exec(select(func.count()).select_from(Room)).one() == 1
    assert members(session, room.id) == [("alice", "admin"), ("bob", "member")]
    assert system_lines(session, room.id) == ["alice joined", "bob joined"]
    created = broker.of_type(events.MESSAGE_CREATED)
    assert [e.data["body"] for e in created] == ["alice joined", "bob joined"]
    assert all(e.data["kind"] == "system" for e in created)
    assert len(broker.of_type(events.MEMBERSHIP_CHANGED)) == 2


@SQLITE_ONLY
def test_joining_twice_changes_nothing(session, trio, broker):
    alice, _, _ = trio
    room = rooms.join_room(session, alice, "general")
    before = snapshot(session)
    published = len(broker.published)
    assert rooms.join_room(session, alice, "GENERAL").id == room.id
    assert snapshot(session) == before
    assert len(broker.published) == published


@SQLITE_ONLY
def test_room_name_rules(session, trio):
    alice, _, _ = trio
    assert rooms.join_room(session, alice, "  a  b\tc ").name == "a b c"
    assert rooms.join_room(session, alice, "x" * 40).name == "x" * 40
    assert rooms.join_room(session, alice, "Dev_ops-2").name == "Dev_ops-2"
    for bad, message in [
        ("", "Enter a room name"),
        ("   ", "Enter a room name"),
        ("x" * 41, NAME_RULE),
        ("café", NAME_RULE),
        ("a/b", NAME_RULE),
        ("<script>", NAME_RULE),
        ("a\x00b", NAME_RULE),
    ]:
        before = snapshot(session)
        with pytest.raises(ServiceError) as err:
            rooms.join_room(session, alice, bad)
        assert str(err.value) == message, bad
        assert snapshot(session) == before


def test_list_my_rooms_by_name(session, trio):
    alice, bob, _ = trio
    rooms.join_room(session, alice, "zeta")
    rooms.join_room(session, alice, "Alpha")
    rooms.join_room(session, bob, "beta")
    assert [r.name for r in rooms.list_my_rooms(session, alice)] == ["Alpha", "zeta"]
    assert [r.name for r in rooms.list_my_rooms(session, bob)] == ["beta"]


def test_non_member_cannot_open_or_leave_room(session, trio):
    alice, bob, _ = trio
    room = rooms.join_room(session, alice, "secret")
    before = snapshot(session)
    with pytest.raises(NotAllowed, match=r"^You are not a member of that room$"):
        rooms.room_for_member(session, bob, "secret")
    with pytest.raises(NotFound, match=r"^No such room$"):
        rooms.room_for_member(session, bob, "nothing here")
    with pytest.raises(NotAllowed):
        rooms.leave_room(session, bob, room.id)
    assert snapshot(session) == before
    assert rooms.room_for_member(session, alice, "SECRET").id == room.id


def test_opening_a_room_by_malformed_name_is_not_found(session, trio):
    alice, _, _ = trio
    rooms.join_room(session, alice, "general")
    for name in ["gen\x00eral", "", "x" * 500, "gen\ud800"]:
        with pytest.raises(NotFound):
            rooms.room_for_member(session, alice, name)


def test_admin_leaving_hands_over_to_longest_standing_member(session, trio):
    alice, bob, carol = trio
    room = rooms.join_room(session, alice, "general")
    rooms.join_room(session, bob, "general")
    rooms.join_room(session, carol, "general")
    rooms.leave_room(session, alice, room.id)
    assert roles(session, room.id) == {"bob": "admin", "carol": "member"}
    assert system_lines(session, room.id)[-1] == "alice left"
    assert rooms.list_my_rooms(session, alice) == []


def test_last_member_leaving_keeps_room_and_history(session, trio):
    alice, bob, _ = trio
    room = rooms.join_room(session, alice, "general")
    messages.send_message(session, alice, room.id, "hello", "c1", settings=FAST)
    rooms.leave_room(session, alice, room.id)
    assert session.get(Room, room.id) is not None
    again = rooms.join_room(session, bob, "General")
    assert again.id == room.id
    assert roles(session, room.id) == {"bob": "admin"}
    bodies = [m.body for m in messages.room_window(session, room.id, 50)[0]]
    assert bodies == ["alice joined", "hello", "alice left", "bob joined"]


def test_kick_removes_bans_and_unban_allows_rejoin(session, trio, broker):
    alice, bob, carol = trio
    room = rooms.join_room(session, alice, "General")
    rooms.join_room(session, bob, "general")
    rooms.join_room(session, carol, "general")
    broker.published.clear()
    room_admin.kick_member(session, alice, room.id, carol)
    assert roles(session, room.id) == {"alice": "admin", "bob": "member"}
    assert system_lines(session, room.id)[-1] == "carol was removed by alice"
    removed = broker.of_type(events.USER_REMOVED)
    assert len(removed) == 1
    assert (removed[0].user_id, removed[0].room_id) == (carol, room.id)
    assert removed[0].data == {"room_name": "General"}
    assert [b.username for b in room_admin.list_bans(session, alice, room.id)] == ["carol"]

    before = snapshot(session)
    with pytest.raises(NotAllowed) as err:
        rooms.join_room(session, carol, "general")
    assert str(err.value) == "You were removed from General and cannot rejoin"
    assert snapshot(session) == before
    with pytest.raises(NotAllowed):
        rooms.room_for_member(session, carol, "general")
    with pytest.raises(NotAllowed):
        messages.messages_before(session, carol, room.id, 10**9, 10)

    room_admin.unban(session, alice, room.id, carol)
    assert room_admin.list_bans(session, alice, room.id) == []
    rooms.join_room(session, carol, "general")
    assert roles(session, room.id)["carol"] == "member"


def test_non_admin_cannot_kick_unban_or_list_bans(session, trio):
    alice, bob, carol = trio
    room = rooms.join_room(session, alice, "general")
    rooms.join_room(session, bob, "general")
    rooms.join_room(session, carol, "general")
    room_admin.kick_member(session, alice, room.id, carol)
    before = snapshot(session)
    for action in (
        lambda: room_admin.kick_member(session, bob, room.id, alice),
        lambda: room_admin.unban(session, bob, room.id, carol),
        lambda: room_admin.list_bans(session, bob, room.id),
    ):
        with pytest.raises(NotAllowed, match=r"^Only the room's admin can do that$"):
            action()
    # carol is banned, hence not a member: no admin rights either
    with pytest.raises(NotAllowed, match=r"^You are not a member of that room$"):
        room_admin.unban(session, carol, room.id, carol)
    assert snapshot(session) == before


@SQLITE_ONLY
def test_admin_cannot_kick_self_or_strangers(session, trio):
    alice, bob, _ = trio
    room = rooms.join_room(session, alice, "general")
    before = snapshot(session)
    with pytest.raises(ServiceError, match=r"^You cannot remove yourself; use Leave room$"):
        room_admin.kick_member(session, alice, room.id, alice)
    with pytest.raises(NotFound, match=r"^That user is not in this room$"):
        room_admin.kick_member(session, alice, room.id, bob)
    with pytest.raises(NotFound, match=r"^That user is not banned here$"):
        room_admin.unban(session, alice, room.id, bob)
    assert snapshot(session) == before


def test_unread_counts_messages_by_others_since_last_read(session, trio, engine):
    alice, bob, _ = trio
    room = rooms.join_room(session, alice, "general")
    other = rooms.join_room(session, alice, "other")
    rooms.join_room(session, bob, "general")
    # system lines ("bob joined") are not unread messages
    assert {r.name: r.unread for r in rooms.list_my_rooms(session, alice)} == {
        "general": 0,
        "other": 0,
    }
    for i in range(3):
        messages.send_message(session, bob, room.id, f"hi {i}", f"b{i}", settings=FAST)
    assert rooms.list_my_rooms(session, bob)[0].unread == 0  # own messages never count
    assert {r.name: r.unread for r in rooms.list_my_rooms(session, alice)}["general"] == 3
    # own messages do not count even when they are above the read mark
    messages.send_message(session, alice, room.id, "mine", "a1", settings=FAST)
    session.exec(
        sa.update(Membership).where(Membership.user_id == alice).values(last_read_message_id=0)
    )
    session.commit()
    assert {r.name: r.unread for r in rooms.list_my_rooms(session, alice)}["general"] == 3
    top = messages.room_window(session, room.id, 1)[0][-1].id
    messages.mark_read_many(session, {(alice, room.id): top})
    # persisted: a brand-new session sees the same counts
    with Session(engine) as fresh:
        assert {r.name: r.unread for r in rooms.list_my_rooms(fresh, alice)} == {
            "general": 0,
            "other": 0,
        }
        messages.send_message(fresh, bob, room.id, "later", "b9", settings=FAST)
    assert {r.name: r.unread for r in rooms.list_my_rooms(session, alice)}["general"] == 1
    assert other.id != room.id


@SQLITE_ONLY
def test_member_ids(session, trio):
    alice, bob, _ = trio
    room = rooms.join_room(session, alice, "general")
    rooms.join_room(session, bob, "general")
    assert sorted(rooms.member_ids(session, room.id)) == sorted([alice, bob])


def test_members_panel_puts_admin_then_online_first_and_counts_everyone(session):
    ids = {
        name: accounts.sign_up(session, name, "password1", settings=FAST).user_id
        for name in ("zed", "amy", "bob", "cat")
    }
    room = rooms.join_room(session, ids["zed"], "panel")
    for name in ("amy", "bob", "cat"):
        rooms.join_room(session, ids[name], "panel")
    shown, count = room_members.members_panel(session, room.id, {ids["cat"]}, limit=3)
    assert count == 4
    assert [m.username for m in shown] == ["zed", "cat", "amy"]
    assert [m.online for m in shown] == [False, True, False]
    assert rooms.name_of(session, room.id) == "panel"
    with pytest.raises(NotFound):
        rooms.name_of(session, 10_000)


# -- joining pace (issue 12: guessing room names reads their history) ---------------
def test_joins_are_limited_per_user_with_a_clear_message(session):
    settings = dataclasses.replace(FAST, join_max=3, join_window_seconds=60)
    alice, bob = user(session, "alice"), user(session, "bob")
    for n in range(3):
        rooms.join_room(session, alice, f"room{n}", settings=settings)
    rooms.join_room(session, alice, "room0", settings=settings)  # re-opening mine is free
    before = snapshot(session)
    with pytest.raises(ServiceError, match=r"^You are joining rooms too quickly, try again in"):
        rooms.join_room(session, alice, "room3", settings=settings)
    assert snapshot(session) == before  # neither created nor joined
    rooms.join_room(session, bob, "room3", settings=settings)  # the limit is alice's alone


def test_joins_older_than_the_window_do_not_count(session):
    settings = dataclasses.replace(FAST, join_max=2, join_window_seconds=60)
    alice = user(session, "alice")
    for n in range(2):
        rooms.join_room(session, alice, f"old{n}", settings=settings)
    session.exec(sa.update(JoinAttempt).values(created_at=utcnow() - dt.timedelta(seconds=61)))
    session.commit()
    assert rooms.join_room(session, alice, "fresh", settings=settings).name == "fresh"


def test_a_refused_join_of_a_banned_user_counts(session):
    settings = dataclasses.replace(FAST, join_max=2, join_window_seconds=60)
    admin, bob = user(session, "admin"), user(session, "bob")
    room = rooms.join_room(session, admin, "vault", settings=settings)
    rooms.join_room(session, bob, "vault", settings=settings)
    room_admin.kick_member(session, admin, room.id, bob)
    with pytest.raises(NotAllowed):
        rooms.join_room(session, bob, "vault", settings=settings)  # bob's second attempt
    with pytest.raises(ServiceError, match="too quickly"):
        rooms.join_room(session, bob, "elsewhere", settings=settings)


def test_shipped_join_limit_lets_a_person_join_twenty_rooms_in_a_minute(session):
    alice = user(session, "alice")
    for n in range(20):
        rooms.join_room(session, alice, f"team {n}")
    with pytest.raises(ServiceError, match="too quickly"):
        rooms.join_room(session, alice, "one too many")
