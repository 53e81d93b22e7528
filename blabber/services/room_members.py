"""The Members panel's rows: who is in a room, admin and online people first."""

from __future__ import annotations

from sqlmodel import Session, col, select

from blabber.models import Membership, User
from blabber.routes import avatar_path
from blabber.services.views import MemberView


def _member_views(
    session: Session, room_id: int, online_ids: set[int] | frozenset[int]
) -> list[MemberView]:
    """Every member of a room, admin first then by name (no access check)."""
    rows = session.exec(
        select(User.id, User.username, Membership.role, User.avatar_key)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.room_id == room_id)
        .order_by(Membership.role, User.username_key)
    ).all()
    return [
        MemberView(
            user_id=uid or 0,
            username=name,
            role=role,
            online=uid in online_ids,
            avatar=avatar_path(uid or 0, key),
        )
        for uid, name, role, key in rows
    ]


def members_panel(
    session: Session, room_id: int, online_ids: set[int] | frozenset[int], limit: int
) -> tuple[list[MemberView], int]:
    """The first ``limit`` rows of a room's Members panel and the member count.

    Admin first, then online members, then by name: in a room of thousands the
    panel shows who is here now, not an alphabetical wall. For a worker's room
    feed, shown only to tabs whose membership was checked when they opened it.
    """
    views = _member_views(session, room_id, online_ids)
    views.sort(key=lambda m: (m.role != "admin", not m.online))  # stable: names stay sorted
    return views[:limit], len(views)
