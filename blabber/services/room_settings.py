"""``Room settings``, the admin's: topic, name, public or private, and deleting the room.

Each change is checked (the caller administers this room, a room and not
a conversation) and made in one transaction, leaves a system line where
members should know who did it, and tells every member's tabs after
commit (``ROOM_CHANGED``): sidebars show the new name, tabs showing the
room follow it to its new URL or, when it is deleted, leave it.

A public room's old names stay as aliases (``RoomAlias``), so an old link
still leads a member to the room; anyone else gets what a missing room gets.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from blabber.models import (
    Membership,
    Mention,
    Message,
    Reaction,
    Room,
    RoomAlias,
    RoomBan,
    RoomKind,
    User,
)
from blabber.realtime import events
from blabber.services import files
from blabber.services.errors import NotFound, ServiceError
from blabber.services.outbox import publish_on_commit
from blabber.services.room_admin import require_admin
from blabber.services.room_aliases import drop_alias
from blabber.services.room_creation import normalize_topic
from blabber.services.rooms import (
    PRIVATE_KEY_PREFIX,
    add_system_message,
    find_room,
    normalize_room_name,
    summary_of,
    url_name,
)
from blabber.services.views import RoomSummary


def _admin_room(session: Session, admin_id: int, room_id: int) -> tuple[Room, str]:
    """The room, if ``admin_id`` administers it and it is a room; and the admin's name."""
    require_admin(session, admin_id, room_id)
    room = session.get(Room, room_id)
    if room is None or room.kind != RoomKind.ROOM.value:
        raise NotFound("No such room")
    admin = session.get(User, admin_id)
    return room, admin.username if admin else "the admin"


def _changed(session: Session, room: Room, *, deleted: bool = False) -> None:
    publish_on_commit(
        session,
        events.Event(
            type=events.ROOM_CHANGED,
            room_id=room.id,
            data={
                "room_name": room.name,
                "url_name": url_name(room),
                "topic": room.description or "",
                "private": room.is_private,
                "deleted": deleted,
            },
        ),
    )


def _keep_alias(session: Session, room: Room) -> None:
    """Remember a public room's current name before it goes (renamed, or made private)."""
    if room.is_private:
        return
    drop_alias(session, room.name_key)
    session.add(RoomAlias(name_key=room.name_key, room_id=room.id or 0))


def update_room(
    session: Session, admin_id: int, room_id: int, *, name: object, topic: object, private: object
) -> RoomSummary:
    """``Save`` in Room settings: name, topic and privacy in one transaction (all or none)."""
    room, admin = _admin_room(session, admin_id, room_id)
    changed = _rename(session, room, admin, name)
    changed |= _set_topic(session, room, admin, topic)
    changed |= _set_private(session, room, admin, private)
    if changed:
        _changed(session, room)
    session.commit()
    return summary_of(room)


def set_topic(session: Session, admin_id: int, room_id: int, topic: object) -> RoomSummary:
    """The topic shown under the room's name ("" clears it)."""
    return _one(session, admin_id, room_id, _set_topic, topic)


def rename_room(session: Session, admin_id: int, room_id: int, name: object) -> RoomSummary:
    """A new name; a public room's must be free, and its old name keeps leading here."""
    return _one(session, admin_id, room_id, _rename, name)


def set_private(session: Session, admin_id: int, room_id: int, private: object) -> RoomSummary:
    """Public ↔ private. Private: out of the directory, unjoinable by name, a new URL."""
    return _one(session, admin_id, room_id, _set_private, private)


def _one(session: Session, admin_id: int, room_id: int, change, value: object) -> RoomSummary:
    room, admin = _admin_room(session, admin_id, room_id)
    if change(session, room, admin, value):
        _changed(session, room)
    session.commit()
    return summary_of(room)


def _set_topic(session: Session, room: Room, admin: str, topic: object) -> bool:
    cleaned = normalize_topic(topic)
    if cleaned == (room.description or ""):
        return False
    room.description = cleaned or None
    session.add(room)
    line = f"{admin} set the topic: {cleaned}" if cleaned else f"{admin} cleared the topic"
    add_system_message(session, room.id or 0, line)
    return True


def _rename(session: Session, room: Room, admin: str, name: object) -> bool:
    clean = normalize_room_name(name if isinstance(name, str) else "")
    if clean == room.name:
        return False
    old = room.name
    if not room.is_private:
        taken = find_room(session, clean)
        if taken is not None and taken.id != room.id:
            raise ServiceError(f"There is already a room called {taken.name}")
        _keep_alias(session, room)
        drop_alias(session, clean.lower())
        room.name_key = clean.lower()
    room.name = clean
    session.add(room)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:  # taken a moment ago
        raise ServiceError(f"There is already a room called {clean}") from None
    add_system_message(session, room.id or 0, f"{admin} renamed the room from {old} to {clean}")
    return True


def _set_private(session: Session, room: Room, admin: str, private: object) -> bool:
    if not isinstance(private, bool):
        raise ServiceError("Private is on or off")
    if private == room.is_private:
        return False
    if private:
        _keep_alias(session, room)
        room.name_key = PRIVATE_KEY_PREFIX + secrets.token_hex(15)
    else:
        if find_room(session, room.name) is not None:
            raise ServiceError(
                f"A public room is already called {room.name}; rename this one first"
            )
        room.name_key = room.name.lower()
        drop_alias(session, room.name_key)
    room.is_private = private
    session.add(room)
    state = "private" if private else "public"
    add_system_message(session, room.id or 0, f"{admin} made the room {state}")
    return True


def delete_room(session: Session, admin_id: int, room_id: int) -> str:
    """Delete the room and all in it (messages, files, reactions, members); returns its name."""
    room, _admin = _admin_room(session, admin_id, room_id)
    name = room.name
    message_ids = select(Message.id).where(Message.room_id == room_id)
    files.forget_room_files(session, room_id)  # rows now, bytes after commit
    session.exec(delete(Reaction).where(col(Reaction.message_id).in_(message_ids)))
    session.exec(delete(Mention).where(col(Mention.room_id) == room_id))
    # Replies point at their originals in the same room: unlink before deleting.
    session.exec(sa.update(Message).where(col(Message.room_id) == room_id).values(reply_to_id=None))
    session.exec(delete(Message).where(col(Message.room_id) == room_id))
    for table in (Membership, RoomBan, RoomAlias):
        session.exec(delete(table).where(col(table.room_id) == room_id))
    _changed(session, room, deleted=True)
    session.delete(room)
    session.commit()
    return name
