"""Direct conversations: 1:1 and small groups, found by their set of people.

A conversation is a room of kind "direct" (``models.Room``): it has all a
room has, but no admin, no kicks and no joining by name. The same set of
people always has the same conversation: its ``name_key`` is derived from
their ids (:func:`direct_key`) and is unique, so two people starting it at
once both land in the one the first committed. Nobody outside it can open
it, and asking for one I am not in gets the same answer as asking for one
that does not exist.
"""

from __future__ import annotations

import dataclasses
import hashlib

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from blabber.models import Membership, Message, MessageKind, Role, Room, RoomKind, User
from blabber.services.errors import NotFound, ServiceError
from blabber.services.rooms import get_membership

MAX_PEOPLE = 9  # me included
NOT_FOUND = "No such conversation"


@dataclasses.dataclass(frozen=True)
class DirectSummary:
    """A sidebar entry under ``Direct messages``: the others, my unread count, last activity."""

    id: int
    names: list[str]  # the other people, by name
    other_ids: list[int]
    unread: int = 0
    last_message_id: int = 0

    @property
    def title(self) -> str:
        """How the conversation is named: its other people."""
        return ", ".join(self.names)


def direct_key(user_ids: set[int]) -> str:
    """The unique ``name_key`` of the conversation of exactly these people.

    ``~`` cannot appear in a room name, so no room can take it, and it is a
    digest so any group size fits the column.
    """
    digest = hashlib.sha256(",".join(map(str, sorted(user_ids))).encode()).hexdigest()
    return "~" + digest[:32]


def open_direct(session: Session, user_id: int, usernames: object) -> DirectSummary:
    """The conversation of me and ``usernames``, created the first time; a clear refusal else."""
    if not isinstance(usernames, list) or not all(isinstance(n, str) for n in usernames):
        raise ServiceError("Pick the people to message")
    keys = {n.strip().lower() for n in usernames if n.strip()}
    me = session.get(User, user_id)
    if me is None:
        raise ServiceError("Log in again")
    keys.discard(me.username_key)
    if not keys:
        raise ServiceError("Pick at least one other person")
    if len(keys) + 1 > MAX_PEOPLE:
        raise ServiceError(f"A conversation has at most {MAX_PEOPLE} people, you included")
    people = session.exec(select(User).where(col(User.username_key).in_(sorted(keys)))).all()
    if len(people) != len(keys):
        missing = sorted(keys - {p.username_key for p in people})
        raise ServiceError(f"No such user: {', '.join(missing)}")
    ids = {user_id, *(p.id for p in people if p.id is not None)}
    room = _find_or_create(session, user_id, ids)
    session.commit()
    return _summary(session, user_id, room.id)  # type: ignore[arg-type]


def _find_or_create(session: Session, user_id: int, ids: set[int]) -> Room:
    key = direct_key(ids)
    existing = session.exec(select(Room).where(Room.name_key == key)).first()
    if existing is not None:
        return existing
    room = Room(name=key, name_key=key, created_by=user_id, kind=RoomKind.DIRECT.value)
    try:
        with session.begin_nested():
            session.add(room)
            session.flush()
            session.add_all(
                Membership(room_id=room.id, user_id=u, role=Role.MEMBER.value)  # type: ignore[arg-type]
                for u in sorted(ids)
            )
            session.flush()
    except sa.exc.IntegrityError:
        # Started at the same moment by someone else: theirs is the conversation.
        found = session.exec(select(Room).where(Room.name_key == key)).first()
        if found is None:  # pragma: no cover - would be a DB bug
            raise
        return found
    return room


def direct_for_member(session: Session, user_id: int, room_id: object) -> DirectSummary:
    """A conversation I am in (``/dm/<id>``); any other id is "no such conversation"."""
    if not isinstance(room_id, int) or isinstance(room_id, bool):
        raise NotFound(NOT_FOUND)
    room = session.get(Room, room_id)
    if room is None or room.kind != RoomKind.DIRECT.value:
        raise NotFound(NOT_FOUND)
    if get_membership(session, user_id, room_id) is None:
        raise NotFound(NOT_FOUND)
    return _summary(session, user_id, room_id)


def list_my_directs(session: Session, user_id: int) -> list[DirectSummary]:
    """My conversations, newest activity first, each with the others' names and my unread count."""
    mine = session.exec(
        select(Room.id)
        .join(Membership, col(Membership.room_id) == Room.id)
        .where(Membership.user_id == user_id, Room.kind == RoomKind.DIRECT.value)
    ).all()
    summaries = [_summary(session, user_id, room_id) for room_id in mine if room_id is not None]
    return sorted(summaries, key=lambda s: (-s.last_message_id, s.id))


def _summary(session: Session, user_id: int, room_id: int) -> DirectSummary:
    others = session.exec(
        select(User.id, User.username)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.room_id == room_id, col(User.id) != user_id)
        .order_by(User.username_key)
    ).all()
    mark = session.exec(
        select(Membership.last_read_message_id).where(
            Membership.room_id == room_id, Membership.user_id == user_id
        )
    ).one()
    unread = session.exec(
        select(func.count(col(Message.id))).where(
            Message.room_id == room_id,
            col(Message.id) > mark,
            Message.kind == MessageKind.USER.value,
            col(Message.author_id) != user_id,
        )
    ).one()
    last = session.exec(select(func.max(col(Message.id))).where(Message.room_id == room_id)).one()
    return DirectSummary(
        id=room_id,
        names=[name for _, name in others],
        other_ids=[i for i, _ in others if i is not None],
        unread=int(unread or 0),
        last_message_id=int(last or 0),
    )
