"""Unread counts a worker folds for the tabs it holds, delivered at most every 2 s.

With many rooms per person, one message concerns many tabs: a state update
per tab per message was the bench's bottleneck (10 rooms x 100 members).
So counts are folded per tab and room (:class:`UnreadCounts`) and handed to
a tab on the leading edge, then at most every ``UNREAD_EVERY_SECONDS``
(``Hub.dispatch`` and ``Hub.flush_unread``).
"""

from __future__ import annotations

import dataclasses

from blabber.realtime import events as ev
from blabber.realtime.events import Event

UNREAD_EVERY_SECONDS = 2.0  # a tab hears about other rooms at most this often


@dataclasses.dataclass
class Unread:
    """What a tab has not heard yet about one room: counts and the newest messages."""

    count: int = 0
    last: dict = dataclasses.field(default_factory=dict)  # the newest message's row
    mentions: int = 0  # of those, how many mention the tab's user
    mention: dict = dataclasses.field(default_factory=dict)  # the newest of those

    def as_dict(self, room_id: int) -> dict:
        """The entry of an ``UNREAD`` event's ``rooms`` (the mention parts only when any)."""
        entry: dict = {"room_id": room_id, "count": self.count, "last": self.last}
        if self.mentions:
            entry["mentions"], entry["mention"] = self.mentions, self.mention
        return entry


class UnreadCounts:
    """What each tab has not heard yet, per room, and when it last heard."""

    def __init__(self) -> None:
        self.waiting: dict[str, dict[int, Unread]] = {}  # token -> room id -> counts
        self.sent_at: dict[str, float] = {}

    def add(self, token: str, room_id: int, message: dict, mentions_tab_user: bool) -> None:
        """One more message for ``token`` in ``room_id`` (and a mention, if it names them)."""
        waiting = self.waiting.setdefault(token, {}).setdefault(room_id, Unread())
        waiting.count += 1
        waiting.last = message
        if mentions_tab_user:
            waiting.mentions += 1
            waiting.mention = message

    def due(self, now: float) -> list[str]:
        """Tabs with counts waiting whose last unread delivery is old enough."""
        return [t for t in self.waiting if now - self.sent_at.get(t, 0.0) >= UNREAD_EVERY_SECONDS]

    def take(self, token: str, now: float) -> Event:
        """The ``UNREAD`` event for ``token``, emptying its counts."""
        rooms = self.waiting.pop(token, {})
        self.sent_at[token] = now
        return Event(
            type=ev.UNREAD,
            data={"rooms": [unread.as_dict(room_id) for room_id, unread in rooms.items()]},
        )

    def forget(self, token: str) -> None:
        """A tab closed or re-registered."""
        self.waiting.pop(token, None)
        self.sent_at.pop(token, None)
