"""``Add people``: a member brings others into a room (the way into a private one).

Any member may add people unless the room's admin kept it to admins
(``Room.add_people_admin_only``). Someone the admin removed (banned) is
not brought back this way: the admin unbans first. All of it is checked in
the transaction that adds them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from blabber.models import Role, Room, RoomBan, RoomKind, User
from blabber.services.errors import NotAllowed, ServiceError
from blabber.services.rooms import add_member, get_membership, require_member

MAX_AT_ONCE = 20


def add_people(session: Session, user_id: int, room_id: int, usernames: object) -> list[str]:
    """Make each named person a member of ``room_id``; returns who was added (in order).

    Anyone already a member is skipped; one unknown, deleted or removed
    name refuses the whole request, so nothing is half done.
    """
    membership = require_member(session, user_id, room_id)
    room = session.get(Room, room_id)
    if room is None or room.kind != RoomKind.ROOM.value:
        raise ServiceError("People join a conversation by starting a new one with them")
    if room.add_people_admin_only and membership.role != Role.ADMIN.value:
        raise NotAllowed("Only the room admin can add people here")
    if not isinstance(usernames, list) or not all(isinstance(n, str) for n in usernames):
        raise ServiceError("Pick the people to add")
    keys = list(dict.fromkeys(n.strip().lower() for n in usernames if n.strip()))
    if not keys:
        raise ServiceError("Pick the people to add")
    if len(keys) > MAX_AT_ONCE:
        raise ServiceError(f"Add at most {MAX_AT_ONCE} people at once")
    found = {
        user.username_key: user
        for user in session.exec(
            select(User).where(col(User.username_key).in_(keys), col(User.deleted_at).is_(None))
        ).all()
    }
    missing = [key for key in keys if key not in found]
    if missing:
        raise ServiceError(f"No one is called {missing[0]}")
    banned = set(
        session.exec(
            select(RoomBan.user_id).where(
                RoomBan.room_id == room_id,
                col(RoomBan.user_id).in_([u.id for u in found.values()]),
            )
        ).all()
    )
    for key in keys:
        if found[key].id in banned:
            raise ServiceError(f"{found[key].username} was removed from this room by its admin")
    adder = session.get(User, user_id)
    added: list[str] = []
    for key in keys:
        person = found[key]
        if get_membership(session, person.id, room_id) is not None:  # type: ignore[arg-type]
            continue
        try:
            with session.begin_nested():
                add_member(session, room, person, Role.MEMBER, by=adder.username if adder else "")
        except sa.exc.IntegrityError:
            continue  # another member added them a moment ago
        added.append(person.username)
    session.commit()
    return added
