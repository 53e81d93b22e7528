"""What the composer suggests after ``@``: members of the open room whose name starts so.

Only a member of the room is told who else is in it (the same rule as the
Members panel), so a crafted request for another room learns nothing.
"""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from blabber.models import Membership, Role, Room, RoomKind, User
from blabber.services.mentions import EVERYONE
from blabber.services.rooms import require_member

LIMIT = 8  # options shown at once; typing more letters narrows them
# What may follow ``@`` while a name is being typed (empty: just the ``@``).
_PREFIX_RE = re.compile(r"[A-Za-z0-9_.\-]{0,40}")


def suggest(session: Session, user_id: int, room_id: int, prefix: object) -> list[str]:
    """Usernames of ``room_id``'s members starting with ``prefix`` (any case), best first.

    ``room`` comes first when it fits and I may use it here (rooms only,
    and only the admin where the admin said so). Never me, never a deleted
    account, at most :data:`LIMIT`. A prefix that no name could start with
    gives [] without a query.
    """
    membership = require_member(session, user_id, room_id)
    if not isinstance(prefix, str) or not _PREFIX_RE.fullmatch(prefix):
        return []
    key = prefix.lower()
    literal = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    found: list[str] = []
    room = session.get(Room, room_id)
    if (
        room is not None
        and room.kind == RoomKind.ROOM.value
        and EVERYONE.startswith(key)
        and (not room.everyone_mentions_admin_only or membership.role == Role.ADMIN.value)
    ):
        found.append(EVERYONE)
    found += session.exec(
        select(User.username)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(
            Membership.room_id == room_id,
            col(User.id) != user_id,
            col(User.deleted_at).is_(None),
            col(User.username_key).like(f"{literal}%", escape="\\"),
        )
        .order_by(User.username_key)
        .limit(LIMIT - len(found))
    ).all()
    return found
