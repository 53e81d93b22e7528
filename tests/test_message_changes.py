"""Edits, deletions, replies and reactions (services.message_changes, reactions, messages).

On SQLite and PostgreSQL: rights checked in the transaction, exactly one
event per change, published after commit, and every change ordered with new
messages by the room's change number, so a viewer keeping the newer version ends
where a fresh page is.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlmodel import Session, select

from blabber.models import Message, Reaction
from blabber.realtime import events
from blabber.services import accounts, message_changes, messages, reactions, room_admin, rooms
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from blabber.services.views import MessageView
from tests.conftest import FAST

ROOMY = dataclasses.replace(FAST, message_burst=1000)


def user(session: Session, name: str) -> int:
    return accounts.sign_up(session, name, "password1", settings=FAST).user_id


@pytest.fixture
def room(session):
    """alice (admin), bob and carol in "general"; eve outside; returns a dict of ids."""
    ids = {n: user(session, n) for n in ("alice", "bob", "carol", "eve")}
    ids["room"] = rooms.join_room(session, ids["alice"], "general").id
    for name in ("bob", "carol"):
        rooms.join_room(session, ids[name], "general")
    return ids


def send(session, author: int, room_id: int, body: str, **kw) -> MessageView:
    client_id = uuid.uuid4().hex
    return messages.send_message(session, author, room_id, body, client_id, settings=ROOMY, **kw)


def stored(session: Session, message_id: int) -> Message:
    session.rollback()
    return session.get(Message, message_id)  # type: ignore[return-value]


# -- edit -------------------------------------------------------------------
def test_author_edits_and_every_viewer_gets_one_newer_version(session, room, broker):
    first = send(session, room["bob"], room["room"], "helo")
    broker.published.clear()
    view = message_changes.edit_message(session, room["bob"], first.id, " hello ", settings=FAST)
    assert (view.body, view.edited, view.seq > first.seq) == ("hello", True, True)
    assert stored(session, first.id).body == "hello"
    [event] = broker.published
    assert (event.type, event.room_id, event.data) == (
        events.MESSAGE_CHANGED,
        room["room"],
        view.as_row(),
    )


@pytest.mark.parametrize("who", ["alice", "carol", "eve"])
def test_nobody_else_edits_not_even_the_admin(session, room, broker, who):
    first = send(session, room["bob"], room["room"], "mine")
    broker.published.clear()
    with pytest.raises((NotAllowed, NotFound)):
        message_changes.edit_message(session, room[who], first.id, "theirs", settings=FAST)
    assert stored(session, first.id).body == "mine"
    assert broker.published == []


def test_emptying_a_message_is_refused_with_a_reason(session, room):
    first = send(session, room["bob"], room["room"], "keep me")
    with pytest.raises(ServiceError, match="delete it instead"):
        message_changes.edit_message(session, room["bob"], first.id, "   ", settings=FAST)
    assert stored(session, first.id).body == "keep me"


def test_a_kicked_author_can_no_longer_edit(session, room):
    first = send(session, room["bob"], room["room"], "before the kick")
    room_admin.kick_member(session, room["alice"], room["room"], room["bob"])
    with pytest.raises(NotFound):
        message_changes.edit_message(session, room["bob"], first.id, "after", settings=FAST)


@pytest.mark.parametrize("bad_id", [0, -1, "1", None, [1], True, 10**9])
def test_crafted_message_ids_are_refused_as_missing(session, room, bad_id):
    send(session, room["bob"], room["room"], "x")
    with pytest.raises(NotFound):
        message_changes.edit_message(session, room["bob"], bad_id, "y", settings=FAST)
    with pytest.raises(NotFound):
        message_changes.delete_message(session, room["bob"], bad_id)


# -- delete -----------------------------------------------------------------
@pytest.mark.parametrize("who", ["bob", "alice"])  # the author, the room's admin
def test_delete_erases_the_text_and_the_reactions(session, room, broker, who):
    first = send(session, room["bob"], room["room"], "regrettable")
    reactions.toggle_reaction(session, room["carol"], first.id, "👍")
    broker.published.clear()
    view = message_changes.delete_message(session, room[who], first.id)
    assert (view.deleted, view.body, view.reactions) == (True, "", [])
    row = stored(session, first.id)
    assert (row.body, row.deleted_at is not None) == ("", True)
    assert session.exec(select(Reaction).where(Reaction.message_id == first.id)).all() == []
    assert [e.type for e in broker.published] == [events.MESSAGE_CHANGED]


@pytest.mark.parametrize("who", ["carol", "eve"])
def test_members_and_strangers_cannot_delete_others_messages(session, room, broker, who):
    first = send(session, room["bob"], room["room"], "stays")
    broker.published.clear()
    with pytest.raises((NotAllowed, NotFound)):
        message_changes.delete_message(session, room[who], first.id)
    assert stored(session, first.id).body == "stays"
    assert broker.published == []


def test_a_deleted_message_cannot_be_edited_reacted_or_deleted_again(session, room):
    first = send(session, room["bob"], room["room"], "gone soon")
    message_changes.delete_message(session, room["bob"], first.id)
    with pytest.raises(NotFound):
        message_changes.edit_message(session, room["bob"], first.id, "back", settings=FAST)
    with pytest.raises(NotFound):
        reactions.toggle_reaction(session, room["carol"], first.id, "👍")
    with pytest.raises(NotFound):
        message_changes.delete_message(session, room["bob"], first.id)


# -- reply ------------------------------------------------------------------
def test_a_reply_quotes_its_original_and_shows_when_it_is_deleted(session, room):
    original = send(session, room["bob"], room["room"], "first line\nsecond line")
    reply = send(session, room["carol"], room["room"], "answer", reply_to_id=original.id)
    assert (reply.reply_to_id, reply.reply_author, reply.reply_excerpt) == (
        original.id,
        "bob",
        "first line",
    )
    message_changes.delete_message(session, room["bob"], original.id)
    [again] = [
        m
        for m in messages.messages_before(session, room["carol"], room["room"], 10**9, 10)
        if m.id == reply.id
    ]
    assert (again.reply_deleted, again.reply_excerpt) == (True, "")


def test_replies_only_to_live_messages_of_the_same_room(session, room):
    elsewhere = rooms.join_room(session, room["eve"], "other").id
    foreign = send(session, room["eve"], elsewhere, "other room")
    with pytest.raises(NotFound):
        send(session, room["carol"], room["room"], "sneaky", reply_to_id=foreign.id)
    gone = send(session, room["bob"], room["room"], "to delete")
    message_changes.delete_message(session, room["bob"], gone.id)
    with pytest.raises(ServiceError, match="deleted"):
        send(session, room["carol"], room["room"], "late", reply_to_id=gone.id)
    with pytest.raises(ServiceError):
        send(session, room["carol"], room["room"], "odd", reply_to_id="7")  # type: ignore[arg-type]


# -- reactions --------------------------------------------------------------
def test_a_reaction_toggles_and_counts_who(session, room, broker):
    first = send(session, room["bob"], room["room"], "react to me")
    broker.published.clear()
    reactions.toggle_reaction(session, room["carol"], first.id, "👍")
    view = reactions.toggle_reaction(session, room["alice"], first.id, ":+1:")  # the same emoji
    [chip] = view.reactions
    assert (chip.emoji, chip.count, chip.users) == ("👍", 2, ["carol", "alice"])
    view = reactions.toggle_reaction(session, room["carol"], first.id, "👍")
    assert [(r.emoji, r.count) for r in view.reactions] == [("👍", 1)]
    assert [e.type for e in broker.published] == [events.MESSAGE_CHANGED] * 3
    seqs = [e.data["seq"] for e in broker.published]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


@pytest.mark.parametrize("value", ["a", "👍👍", "<b>", "", None, 5, ":nope:", "👍 ", "x" * 40])
def test_only_a_single_emoji_is_a_reaction(session, room, value):
    first = send(session, room["bob"], room["room"], "pick")
    if value == "👍 ":  # surrounding space is trimmed: still one emoji
        assert reactions.toggle_reaction(session, room["carol"], first.id, value).reactions
        return
    with pytest.raises(ServiceError, match="single emoji"):
        reactions.toggle_reaction(session, room["carol"], first.id, value)


def test_at_most_twenty_different_reactions_but_more_people_on_each(session, room):
    first = send(session, room["bob"], room["room"], "popular")
    faces = ["😀", "😃", "😄", "😁", "😆", "😅", "😂", "🤣", "😊", "😇"]
    more = ["🙂", "🙃", "😉", "😌", "😍", "🥰", "😘", "😗", "😙", "😚"]
    for face in faces + more:
        reactions.toggle_reaction(session, room["carol"], first.id, face)
    with pytest.raises(ServiceError, match="at most 20"):
        reactions.toggle_reaction(session, room["carol"], first.id, "🎉")
    view = reactions.toggle_reaction(session, room["alice"], first.id, "😀")  # an existing one
    assert len(view.reactions) == 20 and view.reactions[0].count == 2


def test_strangers_and_kicked_members_cannot_react(session, room):
    first = send(session, room["bob"], room["room"], "members only")
    with pytest.raises(NotFound):
        reactions.toggle_reaction(session, room["eve"], first.id, "👍")
    room_admin.kick_member(session, room["alice"], room["room"], room["carol"])
    with pytest.raises(NotFound):
        reactions.toggle_reaction(session, room["carol"], first.id, "👍")
    session.rollback()
    assert session.exec(select(Reaction)).all() == []


# -- the room's order of changes -----------------------------------------------
def test_applying_the_events_in_seq_order_ends_at_what_a_fresh_page_shows(session, room, broker):
    """5 edits, 3 deletions, 10 reactions and a new message: one event each, numbered in order."""
    bob, carol, room_id = room["bob"], room["carol"], room["room"]
    shown = [send(session, bob, room_id, f"m{i}") for i in range(10)]
    broker.published.clear()
    for m in shown[:5]:
        message_changes.edit_message(session, bob, m.id, m.body + " (fixed)", settings=FAST)
    for m in shown[5:8]:
        message_changes.delete_message(session, bob, m.id)
    for i in range(10):
        reactions.toggle_reaction(session, carol, shown[8 + i % 2].id, ["👍", "🎉", "👀"][i % 3])
    send(session, carol, room_id, "while you were away")
    seqs = [e.data["seq"] for e in broker.published]
    assert len(seqs) == 19 and seqs == sorted(set(seqs))  # one number each, in publish order
    applied: dict[int, MessageView] = {m.id: m for m in shown}
    for event in broker.published:  # what a viewer does: keep the newer version
        view = MessageView.from_dict(event.data)
        if view.id not in applied or view.seq > applied[view.id].seq:
            applied[view.id] = view
    page = {m.id: m for m in messages.messages_before(session, carol, room_id, 10**9, 100)}
    assert all(page[i] == applied[i] for i in applied)
    assert [page[m.id].body for m in shown[:5]] == [f"m{i} (fixed)" for i in range(5)]
    assert all(page[m.id].deleted for m in shown[5:8])
