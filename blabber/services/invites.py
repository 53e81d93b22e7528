"""Invite links: made and revoked by a site admin, used up by sign-ups.

An invite's code is shown once, in its link; only its SHA-256 is stored
(like session tokens), so the table does not let anyone in. A use is
taken by one conditional UPDATE in the sign-up's transaction, so two
people signing up at once through a last use cannot both get in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

import sqlalchemy as sa
from sqlmodel import Session, col, select

from blabber import security
from blabber.models import Invite, utcnow
from blabber.services.errors import NotFound, ServiceError
from blabber.services.site_admin import require_site_admin

# ``Expires after``: its choices.
EXPIRES_AFTER: dict[str, dt.timedelta | None] = {
    "1d": dt.timedelta(days=1),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
    "never": None,
}
MAX_USES = 1000
NOT_VALID = "This invite link has expired, been used up or been revoked"


@dataclasses.dataclass(frozen=True)
class InviteView:
    """A row of the site admin's invite list (never the code itself)."""

    id: int
    created_at: str
    expires_at: str  # "" when it never expires
    uses: int
    max_uses: int
    active: bool


def create_invite(
    session: Session, admin_id: int, *, expires_after: object = "7d", max_uses: object = 1
) -> tuple[InviteView, str]:
    """A new invite and its code (shown once; the link is ``/signup?invite=<code>``)."""
    require_site_admin(session, admin_id)
    if not isinstance(expires_after, str) or expires_after not in EXPIRES_AFTER:
        raise ServiceError("Choose when the invite expires")
    if isinstance(max_uses, bool) or not isinstance(max_uses, int) or not 0 < max_uses <= MAX_USES:
        raise ServiceError(f"An invite may be used 1 to {MAX_USES} times")
    code = secrets.token_urlsafe(18)
    keep = EXPIRES_AFTER[expires_after]
    invite = Invite(
        code_hash=security.hash_token(code),
        created_by=admin_id,
        expires_at=utcnow() + keep if keep else None,
        max_uses=max_uses,
    )
    session.add(invite)
    session.commit()
    return view_of(invite), code


def list_invites(session: Session, admin_id: int) -> list[InviteView]:
    """The site's invites, newest first (at most 100)."""
    require_site_admin(session, admin_id)
    rows = session.exec(select(Invite).order_by(col(Invite.id).desc()).limit(100)).all()
    return [view_of(row) for row in rows]


def revoke_invite(session: Session, admin_id: int, invite_id: object) -> None:
    """``Revoke``: the link lets nobody else in."""
    require_site_admin(session, admin_id)
    invite = session.get(Invite, invite_id) if isinstance(invite_id, int) else None
    if invite is None:
        raise NotFound("No such invite")
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        session.add(invite)
    session.commit()


def invite_is_good(session: Session, code: object) -> bool:
    """Whether ``code`` names an invite with a use left (read only; ``take_use`` takes it)."""
    if not isinstance(code, str) or not 0 < len(code) <= 100:
        return False
    invite = session.exec(
        select(Invite).where(Invite.code_hash == security.hash_token(code))
    ).first()
    return invite is not None and view_of(invite).active


def take_use(session: Session, code: object, *, now: dt.datetime | None = None) -> bool:
    """Take one use of the invite ``code`` (not committed: the sign-up commits it).

    False when there is no such invite, or it expired, was used up or revoked.
    """
    if not isinstance(code, str) or not 0 < len(code) <= 100:
        return False
    now = now or utcnow()
    taken = session.execute(
        sa.update(Invite)
        .where(
            col(Invite.code_hash) == security.hash_token(code),
            col(Invite.revoked_at).is_(None),
            col(Invite.uses) < col(Invite.max_uses),
            sa.or_(col(Invite.expires_at).is_(None), col(Invite.expires_at) > now),
        )
        .values(uses=col(Invite.uses) + 1)
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def view_of(invite: Invite, now: dt.datetime | None = None) -> InviteView:
    """The list row of ``invite``."""
    now = now or utcnow()
    expires = invite.expires_at
    if expires is not None and expires.tzinfo is None:  # SQLite hands back naive UTC
        expires = expires.replace(tzinfo=dt.UTC)
    active = (
        invite.revoked_at is None
        and invite.uses < invite.max_uses
        and (expires is None or expires > now)
    )
    return InviteView(
        id=invite.id or 0,
        created_at=invite.created_at.isoformat(),
        expires_at=expires.isoformat() if expires else "",
        uses=invite.uses,
        max_uses=invite.max_uses,
        active=active,
    )
