"""Finding people by name, for ``New message`` (the ``Find people`` picker).

Everyone with an account on this Blabber may message anyone else, so the
picker searches all accounts; it never returns me. Names that start with
what was typed come first, then names that contain it, each by name. The
query is matched literally (``%`` and ``_`` are not wildcards).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from blabber.models import User

MAX_QUERY = 32  # the longest username
DEFAULT_LIMIT = 8


def find_people(
    session: Session, user_id: int, query: object, limit: int = DEFAULT_LIMIT
) -> list[str]:
    """Usernames matching ``query`` (any case), best first, at most ``limit``; [] for none."""
    if not isinstance(query, str):
        return []
    key = query.strip().lstrip("@").lower()[:MAX_QUERY]
    if not key or "\x00" in key:
        return []
    limit = max(0, min(limit, DEFAULT_LIMIT))
    literal = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    found: list[str] = []
    for pattern in (f"{literal}%", f"%{literal}%"):  # starts with, then contains
        if len(found) >= limit:
            break
        found += session.exec(
            select(User.username)
            .where(
                col(User.username_key).like(pattern, escape="\\"),
                col(User.id) != user_id,
                col(User.deleted_at).is_(None),
                col(User.username).not_in(found) if found else sa.true(),
            )
            .order_by(User.username_key)
            .limit(limit - len(found))
        ).all()
    return found
