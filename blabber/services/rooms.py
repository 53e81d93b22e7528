"""Rooms and memberships: join-or-create by name, list, members, leave, kick.

Rules: names are 1–40 characters of letters, digits, ``-``, ``_`` and spaces,
compared case-insensitively. The first member of a room (or the first to
join an empty one) is its admin; if the admin leaves, the longest-standing
member takes over. Every check runs in the same transaction as the change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from blabber.models import (
    JoinAttempt,
    Membership,
    Mention,
    Message,
    MessageKind,
    Role,
    Room,
    RoomBan,
    RoomKind,
    User,
    utcnow,
)
from blabber.realtime import events
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from blabber.services.message_views import views_of
from blabber.services.outbox import publish_on_commit
from blabber.services.room_aliases import drop_alias, room_of_alias
from blabber.services.room_order import next_change
from blabber.services.views import RoomSummary
from blabber.settings import Settings, get_settings

ROOM_NAME_RE = re.compile(r"^[A-Za-z0-9 _\-]{1,40}$")
NOT_A_MEMBER = "You are not a member of that room"
NO_SUCH_ROOM = "No such room"
# A private room's ``name_key``: this, then random hex. Room names have no
# ``~`` and conversation keys are ``~`` + hex (no ``p``), so none can clash.
PRIVATE_KEY_PREFIX = "~p"


def url_name(room: Room) -> str:
    """What names ``room`` in its URL: its name, or a private room's random key."""
    return room.name_key if room.is_private else room.name


def summary_of(room: Room, membership: Membership | None = None) -> RoomSummary:
    """A sidebar entry for ``room`` (with my read mark and level when ``membership`` is given)."""
    return RoomSummary(
        id=room.id or 0,
        name=room.name,
        last_read_id=membership.last_read_message_id if membership else 0,
        level=membership.notify_level if membership else "all",
        url_name=url_name(room),
        private=room.is_private,
        topic=room.description or "",
    )


def normalize_room_name(name: str) -> str:
    """Trim and check a room name, or raise with the rule it breaks."""
    cleaned = re.sub(r"\s+", " ", (name or "").strip())
    if not cleaned:
        raise ServiceError("Enter a room name")
    if not ROOM_NAME_RE.fullmatch(cleaned):
        raise ServiceError("Room names are 1–40 characters: letters, digits, spaces, - or _")
    return cleaned


def find_room(session: Session, name: str) -> Room | None:
    """The room called ``name`` (any case), if any."""
    return session.exec(select(Room).where(Room.name_key == name.strip().lower())).first()


def get_membership(session: Session, user_id: int, room_id: int) -> Membership | None:
    """``user_id``'s membership in ``room_id``, if any."""
    return session.exec(
        select(Membership).where(Membership.room_id == room_id, Membership.user_id == user_id)
    ).first()


def is_member(session: Session, user_id: int | None, room_id: int) -> bool:
    """Whether ``user_id`` is a member of ``room_id`` now (one indexed lookup)."""
    if not user_id or not room_id:
        return False
    found = session.exec(
        select(Membership.id).where(Membership.room_id == room_id, Membership.user_id == user_id)
    ).first()
    return found is not None


def require_member(session: Session, user_id: int | None, room_id: int) -> Membership:
    """The caller's membership, or NotAllowed. Use at the top of every room action."""
    membership = get_membership(session, user_id, room_id) if user_id else None
    if membership is None:
        raise NotAllowed(NOT_A_MEMBER)
    return membership


def add_system_message(session: Session, room_id: int, body: str) -> Message:
    """Write a system line (``bob joined``) and publish it after commit."""
    msg = Message(room_id=room_id, author_id=None, kind=MessageKind.SYSTEM.value, body=body)
    msg.seq = next_change(session, room_id)
    session.add(msg)
    session.flush()
    [view] = views_of(session, [(msg, None)], new=True)
    publish_on_commit(
        session,
        events.Event(type=events.MESSAGE_CREATED, room_id=room_id, data=view.as_row()),
    )
    return msg


def membership_changed(session: Session, room_id: int, user_id: int) -> None:
    """Tell the room (members list) and ``user_id``'s own tabs (their sidebar)."""
    publish_on_commit(
        session, events.Event(type=events.MEMBERSHIP_CHANGED, room_id=room_id, user_id=user_id)
    )


def _create_room(session: Session, user_id: int, name: str) -> Room:
    drop_alias(session, name.lower())
    room = Room(name=name, name_key=name.lower(), created_by=user_id)
    try:
        with session.begin_nested():
            session.add(room)
            session.flush()
    except sa.exc.IntegrityError:
        # Someone created it between our lookup and insert: use theirs.
        existing = find_room(session, name)
        if existing is None:  # pragma: no cover - would be a DB bug
            raise
        return existing
    return room


def check_join_rate(session: Session, user_id: int, settings: Settings) -> None:
    """Raise when ``user_id`` joined ``join_max`` rooms within the window; else count this one.

    Until rooms can be private, knowing a room's name is enough to read all
    of its history, so guessing names must be slow. Re-opening a room I am
    already in is not counted; a refused join (banned) is.
    """
    window = dt.timedelta(seconds=settings.join_window_seconds)
    recent = session.exec(
        select(JoinAttempt.created_at)
        .where(JoinAttempt.user_id == user_id, col(JoinAttempt.created_at) > utcnow() - window)
        .order_by(col(JoinAttempt.created_at).desc())
        .limit(settings.join_max)
    ).all()
    if len(recent) >= settings.join_max:
        wait = recent[-1] + window - utcnow()
        seconds = max(1, math.ceil(wait.total_seconds()))
        raise ServiceError(f"You are joining rooms too quickly, try again in {seconds} seconds")
    session.add(JoinAttempt(user_id=user_id))


def add_member(session: Session, room: Room, user: User, role: Role, by: str = "") -> Membership:
    """Make ``user`` a member, caught up to now, with a system line; after commit, tell them."""
    membership = Membership(
        room_id=room.id,  # type: ignore[arg-type]
        user_id=user.id,  # type: ignore[arg-type]
        role=role.value,
        last_read_message_id=_latest_message_id(session, room.id),  # type: ignore[arg-type]
    )
    session.add(membership)
    session.flush()
    line = f"{by} added {user.username}" if by else f"{user.username} joined"
    msg = add_system_message(session, room.id, line)  # type: ignore[arg-type]
    membership.last_read_message_id = msg.id  # type: ignore[assignment]
    membership_changed(session, room.id, user.id)  # type: ignore[arg-type]
    return membership


def join_room(
    session: Session, user_id: int, name: str, *, settings: Settings | None = None
) -> RoomSummary:
    """Join the public room called ``name``, creating it (with me as admin) if new.

    A private room is never found by its name (its key is random), so a
    private room's name gets exactly what an unused name gets.
    """
    settings = settings or get_settings()
    clean = normalize_room_name(name)
    user = session.get(User, user_id)
    if user is None:
        raise NotAllowed("Please log in again")
    room = find_room(session, clean)
    if room is not None and get_membership(session, user_id, room.id) is not None:  # type: ignore[arg-type]
        return summary_of(room)
    check_join_rate(session, user_id, settings)
    room = room or _create_room(session, user_id, clean)
    banned = session.exec(
        select(RoomBan.id).where(RoomBan.room_id == room.id, RoomBan.user_id == user_id)
    ).first()
    if banned:
        session.commit()  # keeps the counted attempt
        raise NotAllowed(f"You were removed from {room.name} and cannot rejoin")
    member_count = session.exec(
        select(func.count()).select_from(Membership).where(Membership.room_id == room.id)
    ).one()
    role = Role.ADMIN if member_count == 0 else Role.MEMBER
    # New members start "caught up": the backlog is history, not unread.
    last_id = _latest_message_id(session, room.id)  # type: ignore[arg-type]
    membership = Membership(
        room_id=room.id,  # type: ignore[arg-type]
        user_id=user_id,
        role=role.value,
        last_read_message_id=last_id,  # type: ignore[arg-type]
    )
    try:
        with session.begin_nested():
            session.add(membership)
            session.flush()
    except sa.exc.IntegrityError:
        session.commit()  # a concurrent join of the same user won; fine
        return summary_of(room)
    msg = add_system_message(session, room.id, f"{user.username} joined")  # type: ignore[arg-type]
    membership.last_read_message_id = msg.id  # type: ignore[assignment]
    membership_changed(session, room.id, user_id)  # type: ignore[arg-type]
    session.commit()
    return summary_of(room)


def _latest_message_id(session: Session, room_id: int) -> int:
    top = session.exec(select(func.max(Message.id)).where(Message.room_id == room_id)).one()
    return int(top or 0)


def room_for_member(session: Session, user_id: int, name: str) -> RoomSummary:
    """Open a room by its URL name; only members may, others get NotFound/NotAllowed.

    A private room's key opens it for its members; anyone else gets
    NotFound, the answer for a room that does not exist (a public room's
    non-member is told they are not a member, and may join).
    """
    if name.startswith(PRIVATE_KEY_PREFIX):
        room = session.exec(
            select(Room).where(Room.name_key == name, col(Room.is_private).is_(True))
        ).first()
        membership = get_membership(session, user_id, room.id) if room else None  # type: ignore[arg-type]
        if room is None or membership is None:
            raise NotFound(NO_SUCH_ROOM)
        return summary_of(room, membership)
    try:
        clean = normalize_room_name(name)
    except ServiceError:  # a malformed URL (NUL, surrogates...) names no room
        raise NotFound(NO_SUCH_ROOM) from None
    room = find_room(session, clean)
    if room is None:  # an old name leads members on (to url_name); others: no such room
        room = room_of_alias(session, clean.lower())
        if room is None or get_membership(session, user_id, room.id) is None:  # type: ignore[arg-type]
            raise NotFound(NO_SUCH_ROOM)
    membership = require_member(session, user_id, room.id)  # type: ignore[arg-type]
    return summary_of(room, membership)


def unread_columns(user_id: int) -> tuple:
    """Per-membership subqueries: my unread count and my unread mentions in its room.

    Unread is messages by others after my read mark (system lines like
    ``bob joined`` are not something to read); mentions are ``Mention`` rows
    naming me after it. Correlated to ``Membership``, so one query lists
    every room of mine (``list_my_rooms``, ``conversations.list_my_directs``).
    """
    unread = (
        select(func.count(col(Message.id)))
        .where(
            Message.room_id == Membership.room_id,
            col(Message.id) > Membership.last_read_message_id,
            Message.kind == MessageKind.USER.value,
            sa.or_(col(Message.author_id).is_(None), col(Message.author_id) != user_id),
        )
        .correlate(Membership)
        .scalar_subquery()
    )
    mentioned = (
        select(func.count(col(Mention.id)))
        .where(
            Mention.user_id == user_id,
            Mention.room_id == Membership.room_id,
            col(Mention.message_id) > Membership.last_read_message_id,
        )
        .correlate(Membership)
        .scalar_subquery()
    )
    return unread, mentioned


def list_my_rooms(session: Session, user_id: int) -> list[RoomSummary]:
    """My rooms by name, each with its unread count, unread mentions and my level."""
    unread, mentioned = unread_columns(user_id)
    rows = session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types select() up to 4 columns
            Room, unread, mentioned, Membership.notify_level
        )
        .join(Membership, col(Membership.room_id) == Room.id)
        # Direct conversations are listed on their own (services.conversations).
        .where(Membership.user_id == user_id, Room.kind == RoomKind.ROOM.value)
        .order_by(func.lower(Room.name), col(Room.id))  # a private key sorts by nothing useful
    ).all()
    return [
        dataclasses.replace(
            summary_of(room), unread=int(unread or 0), mentions=int(mentions or 0), level=level
        )
        for room, unread, mentions, level in rows
    ]


def name_of(session: Session, room_id: int) -> str:
    """A room's display name (internal: for a worker's room feed)."""
    room = session.get(Room, room_id)
    if room is None:
        raise NotFound("No such room")
    return room.name


def member_ids(session: Session, room_id: int) -> list[int]:
    """User ids in a room (internal use: presence fan-out)."""
    return list(session.exec(select(Membership.user_id).where(Membership.room_id == room_id)).all())


def _hand_over_admin(session: Session, room_id: int) -> None:
    """Make the longest-standing remaining member admin if nobody is."""
    has_admin = session.exec(
        select(Membership.id).where(
            Membership.room_id == room_id, Membership.role == Role.ADMIN.value
        )
    ).first()
    if has_admin:
        return
    successor = session.exec(
        select(Membership)
        .where(Membership.room_id == room_id)
        .order_by(col(Membership.joined_at), col(Membership.id))
    ).first()
    if successor is not None:
        successor.role = Role.ADMIN.value
        session.add(successor)


def leave_room(session: Session, user_id: int, room_id: int) -> None:
    """Leave a room; an admin's role passes to the longest-standing member."""
    membership = require_member(session, user_id, room_id)
    room = session.get(Room, room_id)
    if room is not None and room.kind == RoomKind.DIRECT.value:
        # Its set of people is what it is (conversations.direct_key); leaving
        # would also hand a member the admin role a conversation never has.
        raise ServiceError("You cannot leave a direct conversation")
    user = session.get(User, user_id)
    leave_membership(session, membership, f"{user.username} left")  # type: ignore[union-attr]
    session.commit()


def leave_membership(session: Session, membership: Membership, system_text: str) -> None:
    """End a membership (not committed): admin hand-over, a system line, the live event."""
    room_id, user_id = membership.room_id, membership.user_id
    session.delete(membership)
    session.flush()
    _hand_over_admin(session, room_id)
    add_system_message(session, room_id, system_text)
    membership_changed(session, room_id, user_id)
