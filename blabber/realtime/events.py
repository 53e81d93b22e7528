"""The events that cross processes, as small JSON documents.

Every event names its ``type``; room-scoped events carry ``room_id`` and
user-scoped ones ``user_id``, so a worker's hub can route them to the tabs it
holds without understanding the payload.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

# Published by services (after commit) and carried by the broker.
MESSAGE_CREATED = "message.created"
# An edit, deletion or reaction: ``data`` is the message's whole new view (with its ``seq``).
MESSAGE_CHANGED = "message.changed"
MEMBERSHIP_CHANGED = "membership.changed"  # join, leave, kick: members list must refresh
USER_REMOVED = "user.removed"  # a kicked user's tabs must leave the room
PRESENCE_CHANGED = "presence.changed"
TYPING = "typing"
SESSION_REVOKED = "session.revoked"
# A name shown on messages changed (an account deleted): ``data["room_ids"]`` hold rows of it.
USER_RENAMED = "user.renamed"
# A room's name, URL, topic or privacy changed, or it was deleted (``data["deleted"]``):
# every member's sidebar, and the tabs showing it, follow (services.room_settings).
ROOM_CHANGED = "room.changed"

# Made inside one worker, never published: what its hub and feeds hand to tabs.
RESYNC = "hub.resync"  # the broker came back: feeds and tabs catch up from the database
UNREAD = "hub.unread"  # new messages in rooms a tab is not viewing, counted per room
FEED_TRIMMED = "feed.trimmed"  # to a tab that paged back: the feed drops these, keep them


@dataclasses.dataclass(frozen=True)
class Event:
    """One realtime event. ``data`` must be JSON-serialisable."""

    type: str
    room_id: int | None = None
    user_id: int | None = None
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    # A new message's mentioned members (decided by the server from its text):
    # hubs raise their mention badge and toast. Routing only, never shown.
    mentioned: tuple[int, ...] = ()

    def to_json(self) -> str:
        """Wire form (``mentioned`` only when there are some)."""
        doc = dataclasses.asdict(self)
        if not self.mentioned:
            del doc["mentioned"]
        return json.dumps(doc, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        """Parse the wire form; raises ``ValueError`` on garbage."""
        try:
            doc = json.loads(raw)
        except RecursionError:  # absurdly nested input
            raise ValueError("not an event") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
            raise ValueError("not an event")
        room_id, user_id = doc.get("room_id"), doc.get("user_id")
        data = doc.get("data") if doc.get("data") is not None else {}
        # The hub routes on these fields: a wrong type must not reach it.
        if not all(_is_id(v) for v in (room_id, user_id)) or not isinstance(data, dict):
            raise ValueError("not an event")
        mentioned = doc.get("mentioned") or []
        if not isinstance(mentioned, list) or not all(
            v is not None and _is_id(v) for v in mentioned
        ):
            raise ValueError("not an event")
        return cls(
            type=doc["type"],
            room_id=room_id,
            user_id=user_id,
            data=data,
            mentioned=tuple(mentioned),
        )


def _is_id(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))
