"""Ending a person's sessions: each is revoked, and its tabs are told after commit."""

from __future__ import annotations

from sqlmodel import Session, col, select

from blabber.models import AuthSession, utcnow
from blabber.realtime import events
from blabber.services.outbox import publish_on_commit


def end_sessions(session: Session, user_id: int, *, keep_token_hash: str = "") -> int:
    """Revoke my live sessions (but ``keep_token_hash``); each is told after commit."""
    live = session.exec(
        select(AuthSession).where(
            AuthSession.user_id == user_id,
            col(AuthSession.revoked_at).is_(None),
            AuthSession.token_hash != keep_token_hash,
        )
    ).all()
    now = utcnow()
    for row in live:
        row.revoked_at = now
        session.add(row)
        publish_on_commit(
            session,
            events.Event(
                type=events.SESSION_REVOKED, user_id=user_id, data={"token_hash": row.token_hash}
            ),
        )
    return len(live)
