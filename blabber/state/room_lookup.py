"""What a room URL opens: the room or conversation it names, if I am in it.

``/rooms/<name>`` names a public room by name (or an old name of one) or
a private room by its key; ``/dm/<id>`` a conversation. Anyone not in it
gets NotFound or NotAllowed, and the notice says no more than the URL did.
"""

from __future__ import annotations

import dataclasses

from blabber import db, routes
from blabber.services import conversations, rooms
from blabber.services.errors import ServiceError


@dataclasses.dataclass(frozen=True)
class OpenedRoom:
    """What opening a room or a conversation sets: see ``ChatState``'s room vars."""

    id: int
    name: str  # the feed's key: a room's URL name, a conversation's internal key
    title: str
    kind: str
    path: str
    last_read_id: int
    level: str
    topic: str = ""
    private: bool = False


async def look_up(user_id: int, name: str, direct_id: int | None) -> OpenedRoom:
    """The room or conversation the URL names, if I am in it (NotFound/NotAllowed else)."""
    if direct_id is None:
        room = await db.run_in_session(rooms.room_for_member, user_id, name)
        return OpenedRoom(
            room.id,
            room.url_name,  # a private room's name need not be unique; its key is
            room.name,
            "room",
            routes.room_path(room.url_name),
            room.last_read_id,
            room.level,
            room.topic,
            room.private,
        )
    direct = await db.run_in_session(conversations.direct_for_member, user_id, direct_id)
    return OpenedRoom(
        direct.id,
        direct.name,
        direct.title,
        "direct",
        routes.direct_path(direct.id),
        direct.last_read_id,
        direct.level,
    )


def not_a_member_notice(name: str) -> str:
    """The answer to opening a room one is not in; echoes the name only if it is a room name.

    The name comes from the URL, which anyone can craft: text that could not
    be a room name is not repeated in the app's own voice.
    """
    try:
        clean = rooms.normalize_room_name(name)
    except ServiceError:
        return "You are not a member of that room. Join it by name first."
    return f"You are not a member of {clean}. Join it by name first."
