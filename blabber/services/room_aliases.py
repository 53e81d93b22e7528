"""Old public names of rooms (``RoomAlias``): where an old link leads, and freeing a name."""

from __future__ import annotations

from sqlmodel import Session, col, delete, select

from blabber.models import Room, RoomAlias


def room_of_alias(session: Session, name_key: str) -> Room | None:
    """The room that used to be called ``name_key``, if any (the caller checks membership)."""
    room_id = session.exec(select(RoomAlias.room_id).where(RoomAlias.name_key == name_key)).first()
    return session.get(Room, room_id) if room_id else None


def drop_alias(session: Session, name_key: str) -> None:
    """A room now really has this name: old links to another room stop leading there."""
    session.exec(delete(RoomAlias).where(col(RoomAlias.name_key) == name_key))
