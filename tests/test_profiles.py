"""Profiles (services.profiles), on SQLite and PostgreSQL: what is stored, what a card shows,
and that messages show a display name while mentions keep the username."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlmodel import select

from blabber.models import User
from blabber.realtime import events
from blabber.services import accounts, mentions, messages, profiles, rooms
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from tests.conftest import FAST

NOON = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def people(session):
    return {
        n: accounts.sign_up(session, n, "password1", settings=FAST).user_id for n in ("ann", "ben")
    }


def save(session, who: int, **fields):
    values = {"display_name": "", "about": "", "status": "", "clear_after": "never", **fields}
    return profiles.update_profile(session, who, now=NOON, **values)


def test_a_profile_is_saved_whole_and_shown_on_the_card(session, people):
    save(
        session,
        people["ann"],
        display_name="  Ann   Lee ",
        about="Design lead.\nAsk me about fonts",
        status="In a meeting",
        clear_after="1h",
    )
    profiles.remember_time_zone(session, people["ann"], "Asia/Tokyo")
    card = profiles.profile_card(session, people["ben"], "ANN", ttl_seconds=30, now=NOON)
    assert (card.username, card.display_name, card.status) == ("ann", "Ann Lee", "In a meeting")
    assert card.about == "Design lead. Ask me about fonts"
    assert (card.local_time, card.time_zone) == ("21:00", "Asia/Tokyo")
    assert (card.initials, card.online) == ("AL", False)
    assert card.color == profiles.avatar_color("ann") in profiles.AVATAR_COLORS
    later = profiles.profile_card(
        session, people["ben"], "ann", ttl_seconds=30, now=NOON + dt.timedelta(minutes=61)
    )
    assert later.status == ""  # the hour is up: the status clears itself


def test_bad_profile_input_is_refused_and_changes_nothing(session, people):
    save(session, people["ann"], display_name="Ann")
    for fields, refusal in (
        ({"display_name": "x" * 51}, "at most 50"),
        ({"about": "x" * 301}, "at most 300"),
        ({"status": "x" * 81}, "at most 80"),
        ({"display_name": ["Ann"]}, "must be text"),
        ({"clear_after": "forever"}, "when the status clears"),
        ({"display_name": "Bob", "clear_after": 3}, "when the status clears"),
    ):
        with pytest.raises(ServiceError, match=refusal):
            save(session, people["ann"], **fields)
        session.rollback()
    assert session.get(User, people["ann"]).display_name == "Ann"
    for zone in ("Mars/Olympus", "", "../../etc/passwd", 5):
        with pytest.raises(ServiceError, match="Unknown time zone"):
            profiles.remember_time_zone(session, people["ann"], zone)
    assert profiles.remember_time_zone(session, people["ben"], "UTC")
    assert not profiles.remember_time_zone(session, people["ben"], "UTC")  # unchanged: no write


def test_cards_are_for_people_who_exist(session, people):
    for name in ("nobody", "", "x" * 100, ["ann"]):
        with pytest.raises(NotFound):
            profiles.profile_card(session, people["ben"], name, ttl_seconds=30)
    with pytest.raises(NotAllowed):
        profiles.profile_card(session, 999_999, "ann", ttl_seconds=30)


def test_messages_show_the_display_name_and_mentions_keep_the_username(session, people, broker):
    room = rooms.join_room(session, people["ann"], "general").id
    rooms.join_room(session, people["ben"], "general")
    before = messages.send_message(session, people["ann"], room, "hi", uuid.uuid4().hex)
    assert (before.author, before.author_display) == ("ann", "")
    assert "author_display" not in before.as_row()  # costs nothing on the wire until set
    broker.published.clear()
    save(session, people["ann"], display_name="Ann Lee")
    [renamed] = broker.of_type(events.USER_RENAMED)
    assert renamed.data["room_ids"] == [room]  # the room's feeds re-read her rows
    sent = messages.send_message(session, people["ann"], room, "again", uuid.uuid4().hex)
    assert (sent.author, sent.author_display) == ("ann", "Ann Lee")
    page = messages.room_window(session, room, 10)[0]
    assert [(v.author, v.author_display) for v in page if v.kind == "user"] == [
        ("ann", "Ann Lee"),
        ("ann", "Ann Lee"),
    ]
    by_ben = mentions.resolve(session, room, people["ben"], "@ann and @Ann Lee")
    assert by_ben.user_ids == {people["ann"]}  # the username names her, the display name not
    broker.published.clear()
    save(session, people["ann"], display_name="Ann Lee", status="Lunch")  # same name
    assert broker.of_type(events.USER_RENAMED) == []
    assert session.exec(select(User.status_until).where(User.id == people["ann"])).one() is None
