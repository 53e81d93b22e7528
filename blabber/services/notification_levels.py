"""Per-room notification levels: ``All messages``, ``Mentions only``, ``Nothing``.

A member's level is stored on their membership and read when a message is
sent (who gets a toast or a browser notification) and by the sidebar (a
muted room, a badge or not). Changing it tells every tab of that user.
"""

from __future__ import annotations

from sqlmodel import Session

from blabber.models import NotifyLevel
from blabber.realtime import events
from blabber.services.errors import ServiceError
from blabber.services.outbox import publish_on_commit
from blabber.services.rooms import require_member

CHOICES = {
    NotifyLevel.ALL.value: "All messages",
    NotifyLevel.MENTIONS.value: "Mentions only",
    NotifyLevel.NOTHING.value: "Nothing",
}


def set_notify_level(session: Session, user_id: int, room_id: int, level: object) -> str:
    """Store how much a room may tell me; every tab of mine reloads its sidebar."""
    if not isinstance(level, str) or level not in CHOICES:
        raise ServiceError("Choose All messages, Mentions only or Nothing")
    membership = require_member(session, user_id, room_id)
    if membership.notify_level != level:
        membership.notify_level = level
        session.add(membership)
        publish_on_commit(
            session,
            events.Event(type=events.MEMBERSHIP_CHANGED, room_id=room_id, user_id=user_id),
        )
    session.commit()
    return level
