"""``/settings``: change my password, log out everywhere, delete my account.

Each asks for what proves it is me where it matters (the current password
to change it or to delete the account) and ends sessions in the same
transaction, publishing ``session.revoked`` for each after commit, so every
open tab of those sessions is logged out live.

A deleted account keeps its messages (the history of a room is its
members', not only the author's): they show as from ``Deleted user``. Its
name is never freed: someone else taking it would be mistaken for the
departed person in old messages, quotes and ``@mentions``, which name the
account by its username. Blocking (bcrypt); call through
``db.run_password_work``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from blabber import security
from blabber.models import (
    Membership,
    Message,
    PresenceConnection,
    Room,
    RoomKind,
    User,
    utcnow,
)
from blabber.realtime import events
from blabber.services.accounts import validate_password
from blabber.services.errors import NotAllowed, ServiceError
from blabber.services.outbox import publish_on_commit
from blabber.services.rooms import leave_membership
from blabber.services.session_ends import end_sessions
from blabber.settings import Settings, get_settings

DELETED_NAME = "Deleted user"
NOT_YOUR_PASSWORD = "That is not your current password"  # noqa: S105 - a message
UNUSABLE_HASH = "!"  # no bcrypt hash looks like this: nothing logs in with it


def change_password(
    session: Session,
    user_id: int,
    current: object,
    new: object,
    keep_token_hash: str,
    *,
    settings: Settings | None = None,
) -> int:
    """Set a new password (the current one first); other sessions end. Returns how many."""
    settings = settings or get_settings()
    user = _me(session, user_id)
    _check_password(user, current, settings)
    if not isinstance(new, str):
        raise ServiceError("Enter a new password")
    fresh = validate_password(new)
    if fresh == current:
        raise ServiceError("The new password is the same as the current one")
    user.password_hash = security.hash_password(fresh, rounds=settings.bcrypt_rounds)
    session.add(user)
    ended = end_sessions(session, user_id, keep_token_hash=keep_token_hash)
    session.commit()
    return ended


def log_out_everywhere(session: Session, user_id: int) -> int:
    """End every session of mine, this one included. Returns how many."""
    _me(session, user_id)
    ended = end_sessions(session, user_id)
    session.commit()
    return ended


def delete_account(
    session: Session, user_id: int, password: object, *, settings: Settings | None = None
) -> None:
    """Delete my account (my password first): sessions end, rooms are left, messages stay."""
    settings = settings or get_settings()
    user = _me(session, user_id)
    _check_password(user, password, settings)
    end_sessions(session, user_id)
    rooms_of_mine = session.exec(
        select(Membership)
        .join(Room, col(Room.id) == Membership.room_id)
        .where(Membership.user_id == user_id, Room.kind == RoomKind.ROOM.value)
    ).all()
    for membership in rooms_of_mine:
        # Conversations keep me (as "Deleted user"): their people are their identity.
        leave_membership(session, membership, f"{user.username} deleted their account")
    # Every room with a message of mine: its feeds re-read the rows with my new name.
    shown_in = session.exec(
        select(Message.room_id).where(Message.author_id == user_id).distinct()
    ).all()
    room_ids = sorted({*shown_in, *(m.room_id for m in rooms_of_mine)})
    publish_on_commit(
        session,
        events.Event(type=events.USER_RENAMED, user_id=user_id, data={"room_ids": room_ids}),
    )
    session.exec(sa.delete(PresenceConnection).where(col(PresenceConnection.user_id) == user_id))
    user.username = DELETED_NAME
    user.password_hash = UNUSABLE_HASH
    user.deleted_at = utcnow()
    session.add(user)
    session.commit()


def _me(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotAllowed("Log in again")
    return user


def _check_password(user: User, password: object, settings: Settings) -> None:
    given = password if isinstance(password, str) else ""
    if not security.verify_password(given, user.password_hash, dummy_rounds=settings.bcrypt_rounds):
        raise ServiceError(NOT_YOUR_PASSWORD)
