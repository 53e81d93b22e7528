"""The room admin's tools: remove (kick and ban) a member, list bans, lift a ban.

Only a room's admin may, checked in the same transaction as the change. A
direct conversation has no admin (``conversations``), so none of this
applies to one.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from blabber.models import Membership, Role, Room, RoomBan, User
from blabber.realtime import events
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from blabber.services.outbox import publish_on_commit
from blabber.services.rooms import (
    add_system_message,
    get_membership,
    membership_changed,
    require_member,
)
from blabber.services.views import BanView


def require_admin(session: Session, user_id: int, room_id: int) -> Membership:
    """The caller's membership if they administer the room, else NotAllowed."""
    membership = require_member(session, user_id, room_id)
    if membership.role != Role.ADMIN.value:
        raise NotAllowed("Only the room's admin can do that")
    return membership


def kick_member(session: Session, admin_id: int, room_id: int, target_user_id: int) -> None:
    """Remove and ban a member. Only the admin may, and not themself."""
    require_admin(session, admin_id, room_id)
    if target_user_id == admin_id:
        raise ServiceError("You cannot remove yourself; use Leave room")
    target = get_membership(session, target_user_id, room_id)
    if target is None:
        raise NotFound("That user is not in this room")
    admin = session.get(User, admin_id)
    victim = session.get(User, target_user_id)
    room = session.get(Room, room_id)
    session.delete(target)
    session.add(RoomBan(room_id=room_id, user_id=target_user_id, banned_by=admin_id))
    session.flush()
    add_system_message(
        session,
        room_id,
        f"{victim.username} was removed by {admin.username}",  # type: ignore[union-attr]
    )
    membership_changed(session, room_id, target_user_id)
    publish_on_commit(
        session,
        events.Event(
            type=events.USER_REMOVED,
            room_id=room_id,
            user_id=target_user_id,
            data={"room_name": room.name},  # type: ignore[union-attr]
        ),
    )
    session.commit()


def list_bans(session: Session, admin_id: int, room_id: int) -> list[BanView]:
    """Banned users of a room; admin only."""
    require_admin(session, admin_id, room_id)
    rows = session.exec(
        select(User.id, User.username)
        .join(RoomBan, col(RoomBan.user_id) == User.id)
        .where(RoomBan.room_id == room_id)
        .order_by(User.username_key)
    ).all()
    return [BanView(user_id=r[0] or 0, username=r[1]) for r in rows]


def unban(session: Session, admin_id: int, room_id: int, target_user_id: int) -> None:
    """Lift a ban so the user can rejoin by name; admin only."""
    require_admin(session, admin_id, room_id)
    ban = session.exec(
        select(RoomBan).where(RoomBan.room_id == room_id, RoomBan.user_id == target_user_id)
    ).first()
    if ban is None:
        raise NotFound("That user is not banned here")
    session.delete(ban)
    membership_changed(session, room_id, target_user_id)
    session.commit()


def set_everyone_mentions(
    session: Session, admin_id: int, room_id: int, admin_only: object
) -> bool:
    """Whether only the admin may mention ``@room`` here; the admin's choice, stored."""
    if not isinstance(admin_only, bool):
        raise ServiceError("Choose on or off")
    require_admin(session, admin_id, room_id)
    room = session.get(Room, room_id)
    if room is None:  # pragma: no cover - the membership above needs the room
        raise NotFound("No such room")
    room.everyone_mentions_admin_only = admin_only
    session.add(room)
    session.commit()
    return admin_only


def everyone_mentions_admin_only(session: Session, room_id: int) -> bool:
    """The room's ``@room`` rule (for its admin's tools)."""
    room = session.get(Room, room_id)
    return bool(room and room.everyone_mentions_admin_only)


def set_add_people_admin_only(
    session: Session, admin_id: int, room_id: int, admin_only: object
) -> bool:
    """Whether only the admin may use ``Add people`` here; the admin's choice, stored."""
    if not isinstance(admin_only, bool):
        raise ServiceError("Choose on or off")
    require_admin(session, admin_id, room_id)
    room = session.get(Room, room_id)
    if room is None:  # pragma: no cover - the membership above needs the room
        raise NotFound("No such room")
    room.add_people_admin_only = admin_only
    session.add(room)
    session.commit()
    return admin_only


def add_people_admin_only(session: Session, room_id: int) -> bool:
    """The room's ``Add people`` rule (for its admin's tools)."""
    room = session.get(Room, room_id)
    return bool(room and room.add_people_admin_only)
