"""A message of files alone: quoted, notified and edited by its files, on both databases.

Files are recorded as uploads through the service (what the upload
endpoint does after storing the bytes; tests/test_files.py covers that
part), so these tests need no store.
"""

from __future__ import annotations

import pytest

from blabber.services import accounts, files, message_changes, messages, rooms
from blabber.services.errors import ServiceError
from blabber.services.files import StoredFile
from blabber.services.message_views import excerpt
from blabber.services.notification_rule import notification_for
from blabber.services.views import RoomSummary
from tests.conftest import FAST


@pytest.fixture
def shared(session):
    """alice and bob in "general"; alice's message of two files alone (its view)."""
    alice = accounts.sign_up(session, "alice", "password1", settings=FAST).user_id
    bob = accounts.sign_up(session, "bob", "password1", settings=FAST).user_id
    room = rooms.join_room(session, alice, "general")
    rooms.join_room(session, bob, "general")
    uploads = [
        files.record_upload(session, alice, room.id, StoredFile(name, "image/png", 10, f"f/{i}"))
        for i, name in enumerate(("screenshot.png", "log.txt"))
    ]
    ids = ",".join(str(f.id) for f in uploads)
    sent = messages.send_message(session, alice, room.id, "", "c1", attachment_ids=ids)
    return alice, bob, room.id, sent


def test_a_reply_to_files_alone_quotes_their_names(session, shared):
    _alice, bob, room_id, original = shared
    preview = messages.reply_preview(session, bob, original.id)
    assert excerpt(preview.body, [f.name for f in preview.files]) == (
        "📎 screenshot.png and 1 more file"
    )  # what the composer's "Replying to alice" shows
    reply = messages.send_message(session, bob, room_id, "nice", "c2", reply_to_id=original.id)
    assert reply.reply_excerpt == "📎 screenshot.png and 1 more file"


def test_a_message_with_files_may_be_emptied_of_its_text_and_keeps_them(session, shared):
    alice, _bob, room_id, original = shared
    texted = message_changes.edit_message(session, alice, original.id, "the crash")
    assert texted.body == "the crash" and len(texted.files) == 2
    emptied = message_changes.edit_message(session, alice, original.id, "  ")
    assert emptied.body == "" and [f.name for f in emptied.files] == ["screenshot.png", "log.txt"]
    plain = messages.send_message(session, alice, room_id, "words only", "c3")
    with pytest.raises(ServiceError, match="cannot be empty"):
        message_changes.edit_message(session, alice, plain.id, "")


def test_the_toast_for_files_alone_names_them():
    entries = {1: RoomSummary(1, "general", level="all")}
    last = {"id": 5, "author": "bob", "body": "", "files": [{"name": "plan.pdf"}, {"name": "b"}]}
    toast = notification_for([{"room_id": 1, "count": 1, "last": last}], entries)
    assert toast == ("New message in general", "bob: 📎 plan.pdf and 1 more file")
