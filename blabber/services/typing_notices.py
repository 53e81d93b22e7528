"""Typing notices: checked against membership, published to the broker, never stored.

A notice says only "this user is typing in this room". It is published
only while the database says the user is a member of the room (checked in
the same transaction that hands it to the outbox), so a kicked member's
stale tab cannot make anyone see them typing. Each worker lets through at
most one notice per user and room per ``min_gap`` seconds, whatever number
of tabs that user has open; viewers' feeds additionally send a packet only
when the typing line changes (``RoomFeed.typing``), so renewals from any
number of tabs and workers cost viewers nothing.
"""

from __future__ import annotations

import threading
import time

from sqlmodel import Session

from blabber.realtime import events
from blabber.services import rooms
from blabber.services.outbox import publish_on_commit

_MAX_TRACKED = 10_000  # (user, room) pairs remembered per worker; old ones are dropped first


class TypingThrottle:
    """At most one notice per (user, room) per ``min_gap`` seconds, thread-safe and bounded."""

    def __init__(self, max_tracked: int = _MAX_TRACKED) -> None:
        self._last: dict[tuple[int, int], float] = {}
        self._lock = threading.Lock()
        self._max = max_tracked

    def allow(self, user_id: int, room_id: int, min_gap: float, now: float | None = None) -> bool:
        """True (and remembered) when this user's last notice in the room is old enough."""
        now = time.monotonic() if now is None else now
        key = (user_id, room_id)
        with self._lock:
            last = self._last.get(key)
            if last is not None and 0 <= now - last < min_gap:
                return False
            self._last.pop(key, None)
            self._last[key] = now  # re-inserted: the dict stays ordered oldest first
            while len(self._last) > self._max:
                self._last.pop(next(iter(self._last)))
            return True


THROTTLE = TypingThrottle()


def announce_typing(
    session: Session,
    user_id: int,
    username: str,
    room_id: int,
    *,
    min_gap: float,
    throttle: TypingThrottle = THROTTLE,
) -> bool:
    """Tell the room's open tabs that ``username`` is typing; False when nothing was sent.

    Raises ``NotAllowed`` when the user is not a member of the room. The
    throttle is consulted first, so a throttled notice costs no query; it
    only ever throttles the caller's own (user, room) pair.
    """
    if not throttle.allow(user_id, room_id, min_gap):
        return False
    rooms.require_member(session, user_id, room_id)
    publish_on_commit(
        session,
        events.Event(
            type=events.TYPING, room_id=room_id, user_id=user_id, data={"username": username}
        ),
    )
    session.commit()  # nothing written: the commit only hands the notice to the broker
    return True
