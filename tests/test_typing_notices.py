"""Typing notices: only members announce, once per user and room per gap, after a commit."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from blabber.realtime import events
from blabber.services import accounts, room_admin, rooms, typing_notices
from blabber.services.errors import NotAllowed
from blabber.services.typing_notices import TypingThrottle
from tests.conftest import FAST


def user(session: Session, name: str) -> int:
    return accounts.sign_up(session, name, "password1", settings=FAST).user_id


def test_a_member_announces_once_per_gap_whatever_the_tabs(session, broker):
    alice = user(session, "alice")
    room = rooms.join_room(session, alice, "general")
    throttle = TypingThrottle()
    broker.published.clear()
    sent = [
        typing_notices.announce_typing(
            session, alice, "alice", room.id, min_gap=10.0, throttle=throttle
        )
        for _tab in range(5)  # five tabs of alice typing at once
    ]
    assert sent == [True, False, False, False, False]
    [notice] = broker.of_type(events.TYPING)
    assert (notice.room_id, notice.user_id, notice.data) == (room.id, alice, {"username": "alice"})


def test_a_non_member_or_kicked_member_announces_nothing(session, broker):
    admin, mal = user(session, "admin"), user(session, "mal")
    room = rooms.join_room(session, admin, "vault")
    rooms.join_room(session, mal, "vault")
    throttle = TypingThrottle()
    assert typing_notices.announce_typing(  # positive control: a member is heard
        session, mal, "mal", room.id, min_gap=0.0, throttle=throttle
    )
    room_admin.kick_member(session, admin, room.id, mal)
    broker.published.clear()
    with pytest.raises(NotAllowed):
        typing_notices.announce_typing(session, mal, "mal", room.id, min_gap=0.0, throttle=throttle)
    outsider = user(session, "outsider")
    with pytest.raises(NotAllowed):
        typing_notices.announce_typing(
            session, outsider, "outsider", room.id, min_gap=0.0, throttle=throttle
        )
    assert broker.of_type(events.TYPING) == []


def test_throttle_is_per_user_and_room_and_bounded():
    throttle = TypingThrottle(max_tracked=2)
    assert throttle.allow(1, 1, 1.0, now=100.0)
    assert not throttle.allow(1, 1, 1.0, now=100.5)
    assert throttle.allow(1, 2, 1.0, now=100.5)  # another room
    assert throttle.allow(2, 1, 1.0, now=100.5)  # another user; (1, 1) is dropped (bound 2)
    assert throttle.allow(1, 1, 1.0, now=100.6)  # forgotten, so allowed again
    assert throttle.allow(1, 1, 1.0, now=101.7)  # the gap passed
