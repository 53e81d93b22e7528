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

from blabber.models import Membership, Message, Role, Room, RoomKind, User
from blabber.realtime import events
from blabber.services import presence
from blabber.services.errors import NotFound, ServiceError
from blabber.services.outbox import publish_on_commit
from blabber.services.rooms import list_my_rooms, unread_columns
from blabber.services.views import RoomSummary

MAX_PEOPLE = 9  # me included
NOT_FOUND = "No such conversation"


@dataclasses.dataclass(frozen=True)
class DirectSummary:
    """A sidebar entry under ``Direct messages``, and what opening ``/dm/<id>`` needs.

    ``title`` names the other people (how the conversation is called);
    ``name`` is its internal key, which the worker's room feed is known by
    and never shown. ``online``: someone else in it is online now.
    """

    id: int
    title: str
    other_ids: list[int]
    name: str = ""
    unread: int = 0
    mentions: int = 0
    last_message_id: int = 0
    last_read_id: int = 0
    level: str = "all"
    online: bool = False


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
    people = session.exec(
        select(User).where(col(User.username_key).in_(sorted(keys)), col(User.deleted_at).is_(None))
    ).all()
    if len(people) != len(keys):
        missing = sorted(keys - {p.username_key for p in people})
        raise ServiceError(f"No such user: {', '.join(missing)}")
    ids = {user_id, *(p.id for p in people if p.id is not None)}
    room = _find_or_create(session, user_id, ids)
    session.commit()
    return direct_for_member(session, user_id, room.id)


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
    # Each person's tabs re-read their sidebar: the conversation is listed
    # (and its messages counted) before anyone writes in it.
    for member_id in sorted(ids):
        publish_on_commit(
            session,
            events.Event(type=events.MEMBERSHIP_CHANGED, room_id=room.id, user_id=member_id),
        )
    return room


def direct_for_member(
    session: Session, user_id: int, room_id: object, *, ttl_seconds: int = 0
) -> DirectSummary:
    """A conversation I am in (``/dm/<id>``); any other id is "no such conversation"."""
    if not isinstance(room_id, int) or isinstance(room_id, bool) or room_id <= 0:
        raise NotFound(NOT_FOUND)
    found = _summaries(session, user_id, ttl_seconds, room_id=room_id)
    if not found:
        raise NotFound(NOT_FOUND)
    return found[0]


def list_my_directs(session: Session, user_id: int, *, ttl_seconds: int = 0) -> list[DirectSummary]:
    """My conversations, newest activity first, with the others' names and presence.

    Three queries whatever their number: my memberships with counts, their
    other members, and who of those is online (``ttl_seconds`` > 0).
    """
    summaries = _summaries(session, user_id, ttl_seconds)
    return sorted(summaries, key=lambda s: (-s.last_message_id, s.id))


def _summaries(
    session: Session, user_id: int, ttl_seconds: int, *, room_id: int | None = None
) -> list[DirectSummary]:
    unread, mentioned = unread_columns(user_id)
    last = (
        select(func.max(col(Message.id)))
        .where(Message.room_id == Membership.room_id)
        .correlate(Membership)
        .scalar_subquery()
    )
    query = (
        select(  # type: ignore[call-overload]  # sqlmodel types select() up to 4 columns
            Room.id,
            Room.name,
            unread,
            mentioned,
            last,
            Membership.last_read_message_id,
            Membership.notify_level,
        )
        .join(Membership, col(Membership.room_id) == Room.id)
        .where(Membership.user_id == user_id, Room.kind == RoomKind.DIRECT.value)
    )
    if room_id is not None:
        query = query.where(Room.id == room_id)
    mine = session.exec(query).all()
    if not mine:
        return []
    others: dict[int, list[tuple[int, str]]] = {r[0]: [] for r in mine}
    for rid, uid, username in session.exec(
        select(Membership.room_id, User.id, User.username)
        .join(User, col(User.id) == Membership.user_id)
        .where(col(Membership.room_id).in_(list(others)), Membership.user_id != user_id)
        .order_by(User.username_key)
    ).all():
        others[rid].append((uid or 0, username))
    everyone = {uid for people in others.values() for uid, _ in people}
    online = presence.online_user_ids(session, everyone, ttl_seconds) if ttl_seconds else set()
    return [
        DirectSummary(
            id=r[0],
            title=", ".join(name for _, name in others[r[0]]) or "Only you",
            other_ids=[uid for uid, _ in others[r[0]]],
            name=r[1],
            unread=int(r[2] or 0),
            mentions=int(r[3] or 0),
            last_message_id=int(r[4] or 0),
            last_read_id=int(r[5] or 0),
            level=r[6],
            online=any(uid in online for uid, _ in others[r[0]]),
        )
        for r in mine
    ]


def sidebar_lists(
    session: Session, user_id: int, ttl_seconds: int
) -> tuple[list[RoomSummary], list[DirectSummary], set[int]]:
    """What the sidebar shows, read in one session: my rooms, my conversations, who is online.

    The online set is of the people I share a conversation with (their dots).
    """
    directs = list_my_directs(session, user_id)
    contacts = {uid for d in directs for uid in d.other_ids}
    online = presence.online_user_ids(session, contacts, ttl_seconds)
    directs = [
        dataclasses.replace(d, online=any(uid in online for uid in d.other_ids)) for d in directs
    ]
    return list_my_rooms(session, user_id), directs, online
