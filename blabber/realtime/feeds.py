"""A worker's live room feeds: what every viewer of a room sees, kept once per room.

Every tab showing a room sees the same newest messages, the same typing line
(minus themselves) and the same Members panel. Updating each viewer's own
Reflex state instead would cost a state lock, a Redis fetch and write, and a
fresh serialization of its message window, per tab per message (100 viewers
at 10 msg/s = 1,000 locked state updates a second; bench/RESULTS.md). A
:class:`RoomFeed` keeps that view once per room on each worker and produces
small *payloads* (``{var: value}``) that the state layer sends as one encoded
packet to every viewer at once (``blabber.realtime.room_feeds``).

The message part is split so that a new message re-sends little: ``tail``
holds the newest few messages and is re-sent on every message; ``recent``
holds the rest of the window and is re-sent only when the tail is full and
rolls into it (every ``tail_max`` messages). A change of a message (edit,
deletion, reaction) replaces its row; if the row is in ``recent``, only the
new version goes out, in ``changes`` (id -> latest version), which the page
lays over ``recent`` until the next roll-over re-sends it whole. Versions
are ordered by the room's change number (``seq``): an older one never
replaces a newer one. Messages are kept by id, so a
message seen twice (the broker's copy after a resync read it from the
database) is shown once, and one that arrives out of order is put in its
place.

Nothing here knows Reflex or sockets; it is plain data, tested directly.
"""

from __future__ import annotations

import bisect
import dataclasses
import time
from collections.abc import Iterable
from typing import Any

Payload = dict[str, Any]
MEMBERS_SHOWN = 100  # rows of the Members panel; the count says how many more exist
MAX_TYPERS = 10


def typing_label(names: list[str]) -> str:
    """``alice is typing`` / ``alice and bob are typing`` / ``Several people are typing``."""
    if not names:
        return ""
    if len(names) == 1:
        return f"{names[0]} is typing"
    if len(names) == 2:
        return f"{names[0]} and {names[1]} are typing"
    return "Several people are typing"


@dataclasses.dataclass
class RoomFeed:
    """The live view of one room on this worker."""

    room_id: int
    room_name: str
    window: int = 50
    tail_max: int = 16
    messages: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # ascending id
    split: int = 0  # messages[:split] is ``recent``, messages[split:] is ``tail``
    has_older: bool = False
    typers: dict[int, tuple[str, float]] = dataclasses.field(default_factory=dict)
    members: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    member_count: int = 0
    online_count: int = 0
    loaded: bool = False
    idle_since: float | None = None  # when its last viewer left (for eviction)
    # Latest versions of rows in ``recent`` changed since ``recent`` was last
    # sent; keyed by str(id), as the browser's JSON object keys are. Bounded by the window.
    changes: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    # -- messages ------------------------------------------------------------
    def ids(self) -> list[int]:
        """The ids of the feed's messages, ascending."""
        return [m["id"] for m in self.messages]

    @property
    def first_id(self) -> int:
        """Id of the oldest message held (0 when empty)."""
        return self.messages[0]["id"] if self.messages else 0

    @property
    def last_id(self) -> int:
        """Id of the newest message held (0 when empty)."""
        return self.messages[-1]["id"] if self.messages else 0

    def add(self, views: Iterable[dict[str, Any]]) -> tuple[Payload, list[dict[str, Any]]]:
        """Take new messages; return the payload to send and the messages trimmed off.

        The payload holds ``tail`` alone in the common case, ``recent`` too
        when a message landed in it or the tail rolled over.
        """
        ids = [m["id"] for m in self.messages]
        recent_changed = False
        added = False
        for view in views:
            pos = bisect.bisect_left(ids, view["id"])
            if pos < len(ids) and ids[pos] == view["id"]:
                continue  # seen already
            if pos == 0 and self.messages and self.has_older:
                continue  # older than the window: history paging shows it, no gap here
            ids.insert(pos, view["id"])
            self.messages.insert(pos, view)
            added = True
            if pos < self.split:
                self.split += 1
                recent_changed = True
        if not added:
            return {}, []
        trimmed: list[dict[str, Any]] = []
        if len(self.messages) - self.split > self.tail_max:
            # The tail is full: roll it into ``recent`` and drop what falls out
            # of the window.
            excess = max(0, len(self.messages) - self.window)
            trimmed, self.messages = self.messages[:excess], self.messages[excess:]
            self.split = len(self.messages)
            self.has_older = self.has_older or bool(trimmed)
            recent_changed = True
        return self._message_payload(with_recent=recent_changed), trimmed

    def change(self, view: dict[str, Any]) -> Payload:
        """A newer version of a message: replace its row; return the payload to send.

        ``{}`` when the feed holds an equal or newer version, or the message
        is older than the window (history paging reads it from the database).
        A change of a message newer than the feed (its creation has not
        arrived yet) adds it: the creation is then "seen already".
        """
        ids = [m["id"] for m in self.messages]
        pos = bisect.bisect_left(ids, view["id"])
        if pos == len(ids) or ids[pos] != view["id"]:
            if view["id"] > self.last_id:
                payload, _ = self.add([view])
                return payload
            return {}
        if int(view.get("seq", 0)) <= int(self.messages[pos].get("seq", 0)):
            return {}
        self.messages[pos] = view
        if pos >= self.split:
            return {"tail": self.messages[self.split :]}
        self.changes[str(view["id"])] = view
        return {"changes": dict(self.changes)}

    def load(self, views: list[dict[str, Any]], has_older: bool) -> None:
        """Fill from the database, keeping anything that arrived live meanwhile."""
        arrived_meanwhile = self.messages
        self.has_older = has_older
        self.messages, self.split = [], 0
        self.add(views)
        self.add(arrived_meanwhile)
        self.split = len(self.messages)  # everything loaded is ``recent``
        self.loaded = True

    def _message_payload(self, *, with_recent: bool) -> Payload:
        out: Payload = {
            "tail": self.messages[self.split :],
            "first_id": self.first_id,
            "has_older": self.has_older,
            # The browser keeps this in sessionStorage and hands it back on a
            # reconnect (hydrate), so the tab can catch up from what it saw.
            "seen": seen_marker(self.room_id, self.last_id),
        }
        if with_recent:
            out["recent"] = self.messages[: self.split]
            out["changes"] = {}  # ``recent`` carries the latest versions
            self.changes = {}
        return out

    # -- typing --------------------------------------------------------------
    def typing(self, user_id: int, username: str, seconds: float, now: float | None = None) -> bool:
        """``username`` is typing for the next ``seconds``; True when the typing line changes.

        A renewal from someone already shown only moves their expiry, so it
        needs no packet: however many tabs (or workers) renew a notice, the
        viewers hear of a typer once.
        """
        now = time.time() if now is None else now
        shown = user_id in self.typers and self.typers[user_id][1] > now
        if len(self.typers) < MAX_TYPERS or user_id in self.typers:
            self.typers[user_id] = (username[:32], now + seconds)
            return not shown
        return False

    def stopped_typing(self, username: str) -> bool:
        """They posted: their typing notice ends now. True if it was shown."""
        gone = [u for u, (n, _) in self.typers.items() if n == username]
        for user_id in gone:
            del self.typers[user_id]
        return bool(gone)

    def expire_typing(self, now: float | None = None) -> float | None:
        """Drop expired notices; return when the next one expires (None if none)."""
        now = time.time() if now is None else now
        self.typers = {u: (n, t) for u, (n, t) in self.typers.items() if t > now}
        return min((t for _, t in self.typers.values()), default=None)

    def typing_labels(self) -> tuple[str, dict[int, str]]:
        """The typing line for everyone, and for each typer (who never sees themselves)."""
        names = {u: n for u, (n, _) in self.typers.items()}
        everyone = typing_label(sorted(names.values()))
        own = {u: typing_label(sorted(n for v, n in names.items() if v != u)) for u in names}
        return everyone, own

    # -- members -------------------------------------------------------------
    def set_members(self, members: list[dict[str, Any]], count: int, online: int) -> Payload:
        """New Members panel rows and counts; returns the payload."""
        self.members, self.member_count, self.online_count = members, count, online
        return self.members_payload()

    def members_payload(self) -> Payload:
        """The Members panel part of the view."""
        return {
            "members": self.members,
            "admins": [m["username"] for m in self.members if m.get("role") == "admin"],
            "member_count": self.member_count,
            "online_count": self.online_count,
        }

    # -- whole view ----------------------------------------------------------
    def snapshot(self, typing_text: str, degraded: bool) -> Payload:
        """Everything, for a tab that just opened the room."""
        return {
            "room": self.room_name,
            **self._message_payload(with_recent=True),
            **self.members_payload(),
            "typing_text": typing_text,
            "degraded": degraded,
        }


def seen_marker(room_id: int, message_id: int) -> str:
    """``"<room id>:<newest message id shown>"``, the tab's catch-up cursor."""
    return f"{room_id}:{message_id}"


def parse_seen_marker(marker: object, room_id: int) -> int:
    """The newest id a tab had seen in ``room_id`` (0 if unknown or another room).

    The marker comes back from the browser, so anything malformed is 0: it is
    only a cursor, and every read it drives checks membership.
    """
    if not isinstance(marker, str) or len(marker) > 40:
        return 0
    room, _, seen = marker.partition(":")
    if room != str(room_id) or not seen.isdigit():
        return 0
    return int(seen)


def empty_snapshot(degraded: bool) -> Payload:
    """What a tab that shows no room holds (so nothing of the last room lingers)."""
    return {
        "room": "",
        "recent": [],
        "tail": [],
        "first_id": 0,
        "has_older": False,
        "members": [],
        "admins": [],
        "member_count": 0,
        "online_count": 0,
        "typing_text": "",
        "degraded": degraded,
        "seen": "",
        "changes": {},
    }
