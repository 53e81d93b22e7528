"""``Browse rooms``: the public rooms anyone signed in may find and join.

Private rooms and direct conversations are never listed: the query names
public rooms only, so nothing about the others can leak through a filter,
a count or an ordering.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlmodel import Session, col, func, select

from blabber.models import Membership, Message, Room, RoomKind, User, utcnow
from blabber.services.errors import NotAllowed

LIMIT = 50  # rows shown; a filter narrows them
MAX_FILTER = 40


@dataclasses.dataclass(frozen=True)
class ListedRoom:
    """A row of the directory."""

    id: int
    name: str
    topic: str
    members: int
    active: str  # "active 5 minutes ago", "no messages yet"
    joined: bool  # whether I am a member (``Open``) or not (``Join``)


def browse(
    session: Session, user_id: int, query: object = "", *, now: dt.datetime | None = None
) -> list[ListedRoom]:
    """Public rooms whose name or topic contains ``query`` (any case), latest activity first."""
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotAllowed("Please log in again")
    text = query.strip().lower()[:MAX_FILTER] if isinstance(query, str) else ""
    members = (
        select(func.count(col(Membership.id)))
        .where(Membership.room_id == Room.id)
        .correlate(Room)
        .scalar_subquery()
    )
    # The newest message's id (ix_messages_room_id_id answers it from the
    # index); ids grow with time, so it orders by latest activity too.
    latest = (
        select(func.max(col(Message.id)))
        .where(Message.room_id == Room.id)
        .correlate(Room)
        .scalar_subquery()
    )
    mine = (
        select(func.count(col(Membership.id)))
        .where(Membership.room_id == Room.id, Membership.user_id == user_id)
        .correlate(Room)
        .scalar_subquery()
    )
    statement = select(Room, members, latest, mine).where(  # type: ignore[call-overload]
        Room.kind == RoomKind.ROOM.value, col(Room.is_private).is_(False)
    )
    if text and "\x00" not in text:
        literal = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{literal}%"
        statement = statement.where(
            col(Room.name_key).like(pattern, escape="\\")
            | func.lower(func.coalesce(Room.description, "")).like(pattern, escape="\\")
        )
    statement = statement.order_by(latest.desc().nulls_last(), Room.name_key).limit(LIMIT)
    rows = session.exec(statement).all()
    newest = [last for _room, _count, last, _joined in rows if last]
    when = (
        dict(
            session.exec(
                select(Message.id, Message.created_at).where(col(Message.id).in_(newest))
            ).all()
        )
        if newest
        else {}
    )
    now = now or utcnow()
    return [
        ListedRoom(
            id=room.id or 0,
            name=room.name,
            topic=room.description or "",
            members=int(count or 0),
            active=_activity(when.get(last), now),
            joined=bool(joined),
        )
        for room, count, last, joined in rows
    ]


def _activity(last: dt.datetime | None, now: dt.datetime) -> str:
    """How long ago a room last had a message, in words that need no time zone."""
    if last is None:
        return "no messages yet"
    if last.tzinfo is None:  # SQLite hands back naive UTC
        last = last.replace(tzinfo=dt.UTC)
    seconds = max(0, int((now - last).total_seconds()))
    for size, unit in ((86400 * 365, "year"), (86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"active {n} {unit}{'' if n == 1 else 's'} ago"
    return "active just now"
