"""``Create room``: a new public or private room, with its creator as admin."""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa
from sqlmodel import Session

from blabber.models import Role, Room, User
from blabber.services.errors import NotAllowed, ServiceError
from blabber.services.room_aliases import drop_alias
from blabber.services.rooms import (
    PRIVATE_KEY_PREFIX,
    add_member,
    check_join_rate,
    find_room,
    normalize_room_name,
    summary_of,
)
from blabber.services.views import RoomSummary
from blabber.settings import Settings, get_settings

TOPIC_MAX = 250


def normalize_topic(topic: object) -> str:
    """A room's topic: one line of at most ``TOPIC_MAX`` characters ("" for none)."""
    if topic is None:
        return ""
    if not isinstance(topic, str) or "\x00" in topic:
        raise ServiceError("The topic must be text")
    cleaned = re.sub(r"\s+", " ", topic).strip()
    if len(cleaned) > TOPIC_MAX:
        raise ServiceError(f"A topic is at most {TOPIC_MAX} characters")
    return cleaned


def create_room(
    session: Session,
    user_id: int,
    name: str,
    *,
    private: object = False,
    topic: object = "",
    settings: Settings | None = None,
) -> RoomSummary:
    """``Create room``: a new room with me as its admin, public or private.

    A public name already in use is refused (``Browse rooms`` joins it); a
    private room never collides, since its key is random (see ``Room``).
    """
    settings = settings or get_settings()
    clean = normalize_room_name(name)
    if not isinstance(private, bool):
        raise ServiceError("Private is on or off")
    description = normalize_topic(topic) or None
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotAllowed("Please log in again")
    if not private and (existing := find_room(session, clean)) is not None:
        raise ServiceError(
            f"There is already a room called {existing.name}; find it in Browse rooms"
        )
    check_join_rate(session, user_id, settings)
    key = PRIVATE_KEY_PREFIX + secrets.token_hex(15) if private else clean.lower()
    if not private:
        drop_alias(session, key)
    room = Room(
        name=clean, name_key=key, created_by=user_id, is_private=private, description=description
    )
    try:
        with session.begin_nested():
            session.add(room)
            session.flush()
    except sa.exc.IntegrityError:  # created by someone else a moment ago
        raise ServiceError(
            f"There is already a room called {clean}; find it in Browse rooms"
        ) from None
    add_member(session, room, user, Role.ADMIN)
    session.commit()
    return summary_of(room)
