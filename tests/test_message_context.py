"""Permalinks, replies' targets, grouping and Up-arrow edit (services.messages, message_views).

On SQLite and PostgreSQL: a permalink's page is the message in its context,
for members only and only for a message of that room; each row says whether
it continues the previous one's group.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest

from blabber.models import Message
from blabber.services import accounts, message_changes, messages, rooms
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from blabber.services.views import GROUP_SECONDS, MessageView
from tests.conftest import FAST

ROOMY = dataclasses.replace(FAST, message_burst=1000)


@pytest.fixture
def room(session):
    """alice and bob in "general", eve in "other"; returns a dict of ids."""
    ids = {
        n: accounts.sign_up(session, n, "password1", settings=FAST).user_id
        for n in ("alice", "bob", "eve")
    }
    ids["room"] = rooms.join_room(session, ids["alice"], "general").id
    rooms.join_room(session, ids["bob"], "general")
    ids["other"] = rooms.join_room(session, ids["eve"], "other").id
    return ids


def send(session, author: int, room_id: int, body: str, **kw) -> MessageView:
    return messages.send_message(
        session, author, room_id, body, uuid.uuid4().hex, settings=ROOMY, **kw
    )


def test_a_permalink_shows_the_message_with_its_neighbours(session, room):
    sent = [send(session, room["alice"], room["room"], f"m{i}") for i in range(30)]
    target = sent[10]
    rows, has_older = messages.message_context(session, room["bob"], room["room"], target.id, 5)
    ids = [m.id for m in rows]
    assert ids == [m.id for m in sent[5:16]]  # 5 before, the message, 5 after
    assert has_older  # the joins and m0..m4 are older
    rows, has_older = messages.message_context(session, room["bob"], room["room"], sent[-1].id, 5)
    assert [m.id for m in rows][-1] == sent[-1].id and len(rows) == 6


def test_a_permalink_reaches_far_back(session, room):
    sent = [send(session, room["alice"], room["room"], f"m{i}") for i in range(520)]
    rows, _ = messages.message_context(session, room["alice"], room["room"], sent[19].id, 25)
    assert sent[19].id in [m.id for m in rows]
    assert [m.body for m in rows if m.id == sent[19].id] == ["m19"]


def test_a_permalink_tells_non_members_and_other_rooms_nothing(session, room):
    secret = send(session, room["alice"], room["room"], "secret")
    elsewhere = send(session, room["eve"], room["other"], "eve's")
    with pytest.raises(NotAllowed):
        messages.message_context(session, room["eve"], room["room"], secret.id, 5)
    # A member of "general" asking for a message of "other" through "general":
    for crafted in (elsewhere.id, 10**9, -1, "1", True, None):
        with pytest.raises(NotFound) as refused:
            messages.message_context(session, room["bob"], room["room"], crafted, 5)
        assert refused.value.message == messages.LINK_GONE  # the same answer for all


def test_rows_say_whether_they_continue_the_group_above(session, room):
    a1 = send(session, room["alice"], room["room"], "one")
    a2 = send(session, room["alice"], room["room"], "two")
    b1 = send(session, room["bob"], room["room"], "three")
    assert (a1.continued, a2.continued, b1.continued) == (False, True, False)  # a1 follows a join
    assert a2.prev_at == a1.created_at and b1.prev_at == a2.created_at
    # Older than the grouping window: a new heading, same author or not.
    row = session.get(Message, b1.id)
    row.created_at -= dt.timedelta(seconds=GROUP_SECONDS + 1)
    session.add(row)
    session.commit()
    b2 = send(session, room["bob"], room["room"], "four")
    assert not b2.continued
    # A page computes the same facts as the live events did.
    page = messages.messages_before(session, room["bob"], room["room"], b2.id + 1, 4)
    assert [m.continued for m in page] == [False, True, False, False]
    assert [m.prev_at for m in page][1:] == [m.created_at for m in page][:-1]


def test_a_reply_preview_is_for_members_and_live_messages_only(session, room):
    original = send(session, room["alice"], room["room"], "first line\nsecond")
    preview = messages.reply_preview(session, room["bob"], original.id)
    assert (preview.id, preview.author) == (original.id, "alice")
    with pytest.raises(NotAllowed):
        messages.reply_preview(session, room["eve"], original.id)
    for crafted in (10**9, "1", None, [original.id]):
        with pytest.raises(NotFound):
            messages.reply_preview(session, room["bob"], crafted)
    message_changes.delete_message(session, room["alice"], original.id)
    with pytest.raises(ServiceError, match="deleted"):
        messages.reply_preview(session, room["bob"], original.id)


def test_up_arrow_finds_my_last_message_that_is_still_there(session, room):
    assert messages.my_last_message_id(session, room["bob"], room["room"]) == 0
    first = send(session, room["bob"], room["room"], "mine")
    last = send(session, room["bob"], room["room"], "mine too")
    send(session, room["alice"], room["room"], "not mine")
    assert messages.my_last_message_id(session, room["bob"], room["room"]) == last.id
    message_changes.delete_message(session, room["bob"], last.id)
    assert messages.my_last_message_id(session, room["bob"], room["room"]) == first.id
    with pytest.raises(NotAllowed):
        messages.my_last_message_id(session, room["eve"], room["room"])


def test_opening_a_room_reports_my_read_mark(session, room):
    sent = send(session, room["alice"], room["room"], "hello")
    assert rooms.room_for_member(session, room["alice"], "general").last_read_id == sent.id
    assert rooms.room_for_member(session, room["bob"], "general").last_read_id < sent.id


def test_replies_quote_the_latest_original_live(session, room, broker):
    original = send(session, room["alice"], room["room"], "first version")
    reply = send(session, room["bob"], room["room"], "agreed", reply_to_id=original.id)
    assert (reply.reply_author, reply.reply_excerpt) == ("alice", "first version")
    broker.published.clear()
    message_changes.edit_message(session, room["alice"], original.id, "second version")
    changed = [MessageView.from_dict(e.data) for e in broker.published]
    assert [(v.id, v.reply_excerpt) for v in changed] == [
        (original.id, ""),
        (reply.id, "second version"),
    ]
    assert changed[1].seq > changed[0].seq > reply.seq  # in the room's order
    broker.published.clear()
    message_changes.edit_message(session, room["alice"], original.id, "second version\nmore")
    assert len(broker.published) == 1  # the quoted first line is the same: the reply is not re-sent
    broker.published.clear()
    message_changes.delete_message(session, room["alice"], original.id)
    gone = MessageView.from_dict(broker.published[-1].data)
    assert (gone.id, gone.reply_deleted, gone.reply_excerpt) == (reply.id, True, "")
