"""Plain read models that services return and states display.

They carry only what a member may see: no password hashes, no tokens.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class MessageView:
    """A message as shown in the room."""

    id: int
    room_id: int
    author: str
    kind: str
    body: str
    created_at: str  # ISO 8601, UTC; the browser shows it in local time
    client_id: str = ""


@dataclasses.dataclass(frozen=True)
class RoomSummary:
    """A sidebar entry: one of my rooms and how much I have not read."""

    id: int
    name: str
    unread: int = 0


@dataclasses.dataclass(frozen=True)
class MemberView:
    """A row of the Members panel."""

    user_id: int
    username: str
    role: str
    online: bool = False


@dataclasses.dataclass(frozen=True)
class BanView:
    """A row of the admin's Banned list."""

    user_id: int
    username: str
