"""The site admin's powers: the people list, deactivating accounts, promoting admins.

A site admin is not a room admin: they run the install (``/admin``). The
first account of a fresh install is one (``accounts.sign_up``); they may
promote others. Deactivating an account ends its sessions at once (its
open tabs are logged out live) and it cannot log in until reactivated.
"""

from __future__ import annotations

import dataclasses

from sqlmodel import Session, col, select

from blabber.models import User, utcnow
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from blabber.services.session_ends import end_sessions

LIST_LIMIT = 50


@dataclasses.dataclass(frozen=True)
class PersonRow:
    """A row of the site admin's people list."""

    id: int
    username: str
    display_name: str
    last_seen: str  # ISO 8601 UTC, or "" for never
    site_admin: bool
    active: bool


def require_site_admin(session: Session, user_id: int) -> User:
    """The caller, if they are a site admin of this install; NotAllowed otherwise."""
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None or not user.is_site_admin:
        raise NotAllowed("Only a site admin can do that")
    return user


def list_people(session: Session, admin_id: int, query: object = "") -> list[PersonRow]:
    """Accounts whose name contains ``query`` (any case), by name, at most ``LIST_LIMIT``."""
    require_site_admin(session, admin_id)
    text = query.strip().lower()[:32] if isinstance(query, str) else ""
    statement = select(User).where(col(User.deleted_at).is_(None))
    if text and "\x00" not in text:
        literal = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(col(User.username_key).like(f"%{literal}%", escape="\\"))
    rows = session.exec(statement.order_by(User.username_key).limit(LIST_LIMIT)).all()
    return [
        PersonRow(
            id=u.id or 0,
            username=u.username,
            display_name=u.display_name or "",
            last_seen=u.last_seen_at.isoformat() if u.last_seen_at else "",
            site_admin=u.is_site_admin,
            active=u.deactivated_at is None,
        )
        for u in rows
    ]


def set_active(session: Session, admin_id: int, user_id: object, active: object) -> None:
    """Deactivate (sessions end now, log-in refused) or reactivate an account."""
    require_site_admin(session, admin_id)
    if not isinstance(active, bool):
        raise ServiceError("Choose active or not")
    target = _target(session, user_id)
    if target.id == admin_id and not active:
        raise ServiceError("You cannot deactivate yourself")
    if active:
        target.deactivated_at = None
    elif target.deactivated_at is None:
        target.deactivated_at = utcnow()
        end_sessions(session, target.id or 0)
    session.add(target)
    session.commit()


def make_site_admin(session: Session, admin_id: int, user_id: object) -> None:
    """``Make site admin``: another person may run the site too."""
    require_site_admin(session, admin_id)
    target = _target(session, user_id)
    if target.deactivated_at is not None:
        raise ServiceError("Reactivate the account first")
    target.is_site_admin = True
    session.add(target)
    session.commit()


def _target(session: Session, user_id: object) -> User:
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.deleted_at is not None:
        raise NotFound("No such account")
    return user


def is_site_admin(session: Session, user_id: int) -> bool:
    """Whether ``user_id`` runs the site (the sidebar's ``Admin`` link)."""
    user = session.get(User, user_id)
    return bool(user and user.is_site_admin and user.deleted_at is None)
