"""Direct conversations and @mentions (services.conversations, services.mentions).

On SQLite and PostgreSQL: the same set of people always has one
conversation, concurrently too; nobody outside it can open, find or join
it; mentions are read from the stored text, code and addresses excluded,
and recorded only for members.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid

import pytest
from sqlmodel import Session, select

from blabber.models import Mention
from blabber.realtime import events
from blabber.services import (
    accounts,
    conversations,
    mention_suggestions,
    mentions,
    messages,
    notification_levels,
    room_admin,
    rooms,
)
from blabber.services import people as people_mod
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from tests.conftest import FAST

ROOMY = dataclasses.replace(FAST, message_burst=1000)


@pytest.fixture
def people(session):
    names = ("alice", "bob", "carol", "dave", "eve")
    return {n: accounts.sign_up(session, n, "password1", settings=FAST).user_id for n in names}


def send(session, author: int, room_id: int, body: str):
    return messages.send_message(session, author, room_id, body, uuid.uuid4().hex, settings=ROOMY)


def test_the_same_people_always_get_the_same_conversation(session, people):
    first = conversations.open_direct(session, people["alice"], ["bob"])
    again = conversations.open_direct(session, people["bob"], ["ALICE", "bob"])  # me, any case
    assert first.id == again.id and first.title == "bob" and again.title == "alice"
    group = conversations.open_direct(session, people["alice"], ["bob", "carol"])
    assert group.id != first.id and group.title == "bob, carol"
    listed = conversations.list_my_directs(session, people["bob"])
    assert {d.id for d in listed} == {first.id, group.id}
    assert all(d.id != first.id for d in rooms.list_my_rooms(session, people["bob"]))


def test_starting_at_once_still_gives_one_conversation(engine, people):
    ids: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def start(me: str, other: str) -> None:
        try:
            with Session(engine) as s:
                barrier.wait()
                ids.append(conversations.open_direct(s, people[me], [other]).id)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=start, args=p) for p in (("alice", "dave"), ("dave", "alice"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(ids) == 2 and ids[0] == ids[1]


def test_a_conversation_is_invisible_to_everyone_outside_it(session, people):
    dm = conversations.open_direct(session, people["alice"], ["bob"])
    send(session, people["alice"], dm.id, "just between us")
    for crafted in (dm.id, dm.id + 1000, str(dm.id), None, True):
        with pytest.raises(NotFound) as refused:
            conversations.direct_for_member(session, people["eve"], crafted)
        assert refused.value.message == conversations.NOT_FOUND  # exists or not: the same
    assert conversations.list_my_directs(session, people["eve"]) == []
    with pytest.raises(ServiceError):  # not joinable by any name
        rooms.join_room(session, people["eve"], dm_name(session, dm.id))
    with pytest.raises(NotAllowed):  # its history is members' only, like a room's
        messages.messages_before(session, people["eve"], dm.id, 10**9, 10)
    plain = rooms.join_room(session, people["eve"], "general")  # a room is no conversation
    with pytest.raises(NotFound):
        conversations.direct_for_member(session, people["eve"], plain.id)


def dm_name(session: Session, room_id: int) -> str:
    from blabber.models import Room

    return session.get(Room, room_id).name  # type: ignore[union-attr]


def test_refusals_are_clear(session, people):
    with pytest.raises(ServiceError, match="at least one"):
        conversations.open_direct(session, people["alice"], ["alice"])
    with pytest.raises(ServiceError, match="No such user: zed"):
        conversations.open_direct(session, people["alice"], ["bob", "zed"])
    with pytest.raises(ServiceError, match="at most 9"):
        conversations.open_direct(session, people["alice"], [f"u{i}x" for i in range(9)])
    for crafted in ("bob", None, [1, 2], {"bob": 1}):
        with pytest.raises(ServiceError):
            conversations.open_direct(session, people["alice"], crafted)


def test_unread_and_newest_activity_first(session, people):
    with_bob = conversations.open_direct(session, people["alice"], ["bob"])
    with_carol = conversations.open_direct(session, people["alice"], ["carol"])
    send(session, people["carol"], with_carol.id, "hi")
    send(session, people["bob"], with_bob.id, "hey")
    send(session, people["bob"], with_bob.id, "you there?")
    listed = conversations.list_my_directs(session, people["alice"])
    assert [(d.title, d.unread) for d in listed] == [("bob", 2), ("carol", 1)]


# -- mentions -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "names", "everyone"),
    [
        ("hi @Bob, and @carol.", [("bob",), ("carol.", "carol")], False),
        ("mail bob@example.com", [], False),
        ("`@bob` and ```\n@carol\n``` but @dave", [("dave",)], False),
        ("@room look", [], True),
        ("@@bob @b", [], False),  # a doubled @ continues a word; 'b' is no username
    ],
)
def test_names_are_read_from_text_outside_code(text, names, everyone):
    assert mentions.named(text) == (names, everyone)


def test_only_members_are_mentioned_and_strangers_are_reported(session, people):
    room = rooms.join_room(session, people["alice"], "general").id
    rooms.join_room(session, people["bob"], "general")
    rooms.join_room(session, people["carol"], "general")
    found = mentions.resolve(session, room, people["alice"], "@bob @dave @nobody @alice")
    assert found.user_ids == {people["bob"]}  # the author is never notified
    assert found.not_members == ("dave",)  # an account, not in the room; 'nobody' is no one
    everyone = mentions.resolve(session, room, people["alice"], "@room hello")
    assert everyone.everyone and everyone.user_ids == {people["bob"], people["carol"]}
    dm = conversations.open_direct(session, people["alice"], ["bob"])
    assert not mentions.resolve(session, dm.id, people["alice"], "@room").everyone


def test_a_sent_message_records_its_mentions_in_its_transaction(session, people):
    room = rooms.join_room(session, people["alice"], "general").id
    rooms.join_room(session, people["bob"], "general")
    sent = send(session, people["alice"], room, "@bob see `@alice` and @eve")
    rows = session.exec(select(Mention.user_id).where(Mention.message_id == sent.id)).all()
    assert rows == [people["bob"]]
    plain = send(session, people["alice"], room, "no one named")
    assert session.exec(select(Mention).where(Mention.message_id == plain.id)).all() == []


# -- notification levels and the mention badge ---------------------------------------
def test_the_sidebar_counts_my_unread_mentions_apart(session, people, broker):
    room = rooms.join_room(session, people["alice"], "general").id
    rooms.join_room(session, people["bob"], "general")
    send(session, people["alice"], room, "plain")
    send(session, people["alice"], room, "@bob look")
    send(session, people["alice"], room, "@room all of you")
    [entry] = rooms.list_my_rooms(session, people["bob"])
    assert (entry.unread, entry.mentions, entry.level) == (3, 2, "all")
    [mine] = rooms.list_my_rooms(session, people["alice"])
    assert mine.mentions == 0  # my own @room does not name me


def test_a_level_is_stored_per_member_and_tells_my_tabs(session, people, broker):
    room = rooms.join_room(session, people["alice"], "general").id
    rooms.join_room(session, people["bob"], "general")
    broker.published.clear()
    assert (
        notification_levels.set_notify_level(session, people["bob"], room, "nothing") == "nothing"
    )
    [event] = broker.published
    assert (event.type, event.user_id) == (events.MEMBERSHIP_CHANGED, people["bob"])
    assert rooms.list_my_rooms(session, people["bob"])[0].level == "nothing"
    assert rooms.list_my_rooms(session, people["alice"])[0].level == "all"
    for crafted in ("loud", "", None, ["all"], 1):
        with pytest.raises(ServiceError, match="Choose"):
            notification_levels.set_notify_level(session, people["bob"], room, crafted)
    with pytest.raises(NotAllowed):
        notification_levels.set_notify_level(session, people["eve"], room, "all")


# -- what a conversation is not, and what it tells -----------------------------------
def test_a_conversation_has_no_leaving_and_no_admin(session, people):
    dm = conversations.open_direct(session, people["alice"], ["bob", "carol"])
    with pytest.raises(ServiceError, match="cannot leave"):
        rooms.leave_room(session, people["alice"], dm.id)
    assert rooms.is_member(session, people["alice"], dm.id)  # nothing half-done
    with pytest.raises(NotAllowed, match="admin"):  # nobody in it administers it
        room_admin.kick_member(session, people["alice"], dm.id, people["bob"])
    assert rooms.is_member(session, people["bob"], dm.id)


def test_starting_a_conversation_tells_each_person_once(session, people, broker):
    broker.published.clear()
    dm = conversations.open_direct(session, people["alice"], ["bob", "carol"])
    told = broker.of_type(events.MEMBERSHIP_CHANGED)
    assert sorted(e.user_id for e in told) == sorted(people[n] for n in ("alice", "bob", "carol"))
    assert {e.room_id for e in told} == {dm.id}
    broker.published.clear()
    conversations.open_direct(session, people["bob"], ["alice", "carol"])  # it exists: nothing new
    assert broker.published == []


def test_a_message_event_names_whom_it_mentions(session, people, broker):
    room = rooms.join_room(session, people["alice"], "general").id
    rooms.join_room(session, people["bob"], "general")
    rooms.join_room(session, people["carol"], "general")
    broker.published.clear()
    send(session, people["alice"], room, "@carol and @Bob, and @alice")
    [event] = broker.of_type(events.MESSAGE_CREATED)
    assert event.mentioned == tuple(sorted((people["bob"], people["carol"])))
    assert events.Event.from_json(event.to_json()) == event
    broker.published.clear()
    send(session, people["alice"], room, "nobody")
    [plain] = broker.of_type(events.MESSAGE_CREATED)
    assert plain.mentioned == () and "mentioned" not in plain.to_json()


def test_the_list_says_who_is_online_and_counts_mentions(session, people):
    from blabber.services import presence

    dm = conversations.open_direct(session, people["alice"], ["bob"])
    send(session, people["bob"], dm.id, "@alice hi")
    [entry] = conversations.list_my_directs(session, people["alice"], ttl_seconds=45)
    assert (entry.unread, entry.mentions, entry.online, entry.level) == (1, 1, False, "all")
    presence.sync_worker(session, "w1", {"bob-tab": people["bob"]}, 45)
    [entry] = conversations.list_my_directs(session, people["alice"], ttl_seconds=45)
    assert entry.online and entry.other_ids == [people["bob"]]


# -- finding people -------------------------------------------------------------------
def test_find_people_ranks_names_that_start_with_the_query_first(session, people):
    accounts.sign_up(session, "robert", "password1", settings=FAST)
    accounts.sign_up(session, "a_bc", "password1", settings=FAST)
    accounts.sign_up(session, "axbc", "password1", settings=FAST)
    assert people_mod.find_people(session, people["alice"], "bo") == ["bob"]
    assert people_mod.find_people(session, people["alice"], "@OB") == ["bob", "robert"]  # any case
    found = people_mod.find_people(session, people["alice"], "a")
    assert found == ["a_bc", "axbc", "carol", "dave"]
    assert people_mod.find_people(session, people["alice"], "a_b") == ["a_bc"]  # "_" is literal
    assert people_mod.find_people(session, people["alice"], "%") == []  # no wildcard either
    for nothing in ("", "   ", None, ["bob"], "\x00"):
        assert people_mod.find_people(session, people["alice"], nothing) == []
    assert people_mod.find_people(session, people["bob"], "bob") == []  # never me


# -- what levels let a room say (services.notification_rule) ------------------------
def test_the_title_counts_rooms_by_level_and_conversations_always():
    from blabber.services.conversations import DirectSummary
    from blabber.services.notification_rule import unread_total
    from blabber.services.views import RoomSummary

    loud = RoomSummary(1, "general", unread=3, mentions=1, level="all")
    quiet = RoomSummary(2, "random", unread=5, mentions=2, level="mentions")
    muted = RoomSummary(3, "noise", unread=9, mentions=1, level="nothing")
    dm = DirectSummary(4, "bob", [2], unread=2, level="nothing")
    assert unread_total([loud, quiet, muted], [dm]) == 3 + 2 + 1 + 2


def test_the_toast_is_the_newest_mention_else_the_newest_loud_message():
    from blabber.services.conversations import DirectSummary
    from blabber.services.notification_rule import notification_for
    from blabber.services.views import RoomSummary

    entries = {
        1: RoomSummary(1, "general", level="all"),
        2: RoomSummary(2, "noise", level="nothing"),
        3: DirectSummary(3, "bob", [2], level="all"),
    }

    def said(*fresh):
        return notification_for(list(fresh), entries)

    def last(i, author="bob", body="hi"):
        return {"id": i, "author": author, "body": body}

    plain_noise = {"room_id": 2, "count": 1, "last": last(9)}
    assert said(plain_noise) is None  # ``Nothing``: no toast for a plain message
    mention = {**plain_noise, "mentions": 1, "mention": last(9, body="@me look")}
    assert said(mention) == ("bob mentioned you in noise", "bob: @me look")  # still a mention
    loud = {"room_id": 1, "count": 2, "last": last(12, "carol")}
    assert said(plain_noise, loud) == ("New message in general", "carol: hi")
    assert said(loud, mention)[0] == "bob mentioned you in noise"  # a mention wins
    assert said({"room_id": 3, "count": 1, "last": last(13)}) == ("New message from bob", "bob: hi")


def test_the_admin_may_keep_at_room_to_themself(session, people):
    room = rooms.join_room(session, people["alice"], "general").id  # alice: the admin
    rooms.join_room(session, people["bob"], "general")
    rooms.join_room(session, people["carol"], "general")
    with pytest.raises(NotAllowed, match="admin"):
        room_admin.set_everyone_mentions(session, people["bob"], room, True)
    for crafted in ("yes", 1, None, [True]):
        with pytest.raises(ServiceError, match="on or off"):
            room_admin.set_everyone_mentions(session, people["alice"], room, crafted)
    assert not room_admin.everyone_mentions_admin_only(session, room)  # nothing half-done
    assert room_admin.set_everyone_mentions(session, people["alice"], room, True) is True
    by_bob = mentions.resolve(session, room, people["bob"], "@room lunch? @carol")
    assert (by_bob.everyone, by_bob.everyone_refused) == (False, True)
    assert by_bob.user_ids == {people["carol"]}  # a plain mention still names
    by_alice = mentions.resolve(session, room, people["alice"], "@room lunch")
    assert by_alice.everyone and by_alice.user_ids == {people["bob"], people["carol"]}
    room_admin.set_everyone_mentions(session, people["alice"], room, False)
    assert mentions.resolve(session, room, people["bob"], "@room").everyone


# -- the composer's @ suggestions and what the sender is told ------------------------
def test_suggestions_are_the_members_whose_name_starts_with_what_was_typed(session, people):
    room = rooms.join_room(session, people["alice"], "general").id  # alice: the admin
    for name in ("bob", "carol"):
        rooms.join_room(session, people[name], "general")
    suggest = mention_suggestions.suggest
    assert suggest(session, people["alice"], room, "") == ["room", "bob", "carol"]  # never me
    assert suggest(session, people["alice"], room, "B") == ["bob"]  # any case
    assert suggest(session, people["alice"], room, "ro") == ["room"]
    assert suggest(session, people["alice"], room, "da") == []  # dave is not a member
    for crafted in ("%", "_", "b%", "b ob", ["b"], None, "x" * 41):
        assert suggest(session, people["alice"], room, crafted) == []  # LIKE is literal
    with pytest.raises(NotAllowed):
        suggest(session, people["dave"], room, "")  # who is in it is for members
    room_admin.set_everyone_mentions(session, people["alice"], room, True)
    assert suggest(session, people["bob"], room, "") == ["alice", "carol"]  # @room: admin's
    assert suggest(session, people["alice"], room, "") == ["room", "bob", "carol"]
    dm = conversations.open_direct(session, people["alice"], ["bob"])
    assert suggest(session, people["alice"], dm.id, "") == ["bob"]  # no @room in a DM


def test_the_sender_is_told_whom_a_mention_did_not_notify(session, people):
    room = rooms.join_room(session, people["alice"], "general").id
    rooms.join_room(session, people["bob"], "general")

    def notice(author: str, body: str) -> str:
        sent = messages.send_noting(
            session, people[author], room, body, uuid.uuid4().hex, settings=ROOMY
        )
        return sent.notice

    assert notice("alice", "@bob hi") == ""
    assert notice("alice", "@dave hi") == "@dave is not a member here, so was not notified"
    assert notice("alice", "@dave @eve @nobody") == (
        "@dave and @eve are not members here, so were not notified"
    )
    room_admin.set_everyone_mentions(session, people["alice"], room, True)
    assert notice("bob", "@room lunch") == (
        "Only the room admin can mention @room here, so nobody was notified by it"
    )
