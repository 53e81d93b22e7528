"""Reactions: an emoji chip under a message, toggled by each member.

Any member of the message's room may react; a second pick of the same
emoji removes it. Only a single emoji counts (the ``emoji`` package knows
Unicode's list, skin tones and sequences included), and a message holds
at most :data:`MAX_DISTINCT` different ones. Each toggle is a change of the
message in the room's order and publishes its whole new view.
"""

from __future__ import annotations

import emoji as emoji_data
from sqlmodel import Session, select

from blabber.models import MessageKind, Reaction
from blabber.services.errors import ServiceError
from blabber.services.message_changes import message_in_my_room, publish_change
from blabber.services.views import MessageView

MAX_DISTINCT = 20
MAX_EMOJI_CHARS = 32  # the column's size; the longest emoji sequences are about 10
NOT_AN_EMOJI = "Reactions must be a single emoji"


def validate_emoji(value: object) -> str:
    """``value`` if it is exactly one emoji (a shortcode like ``:tada:`` is turned into one)."""
    if not isinstance(value, str):
        raise ServiceError(NOT_AN_EMOJI)
    text = value.strip()
    if text.startswith(":") and text.endswith(":"):
        text = emoji_data.emojize(text, language="alias")
    if not text or len(text) > MAX_EMOJI_CHARS or not emoji_data.is_emoji(text):
        raise ServiceError(NOT_AN_EMOJI)
    return text


def toggle_reaction(
    session: Session, user_id: int, message_id: object, emoji: object
) -> MessageView:
    """Add my ``emoji`` to a message, or take it back if I had chosen it."""
    chosen = validate_emoji(emoji)
    msg, _ = message_in_my_room(session, user_id, message_id)
    if msg.kind != MessageKind.USER.value:
        raise ServiceError("System lines take no reactions")
    mine = session.exec(
        select(Reaction).where(
            Reaction.message_id == msg.id, Reaction.user_id == user_id, Reaction.emoji == chosen
        )
    ).first()
    if mine is not None:
        session.delete(mine)
    else:
        kinds = set(
            session.exec(select(Reaction.emoji).where(Reaction.message_id == msg.id).distinct())
        )
        if chosen not in kinds and len(kinds) >= MAX_DISTINCT:
            raise ServiceError(f"A message can have at most {MAX_DISTINCT} different reactions")
        session.add(Reaction(message_id=msg.id, user_id=user_id, emoji=chosen))  # type: ignore[arg-type]
    return publish_change(session, msg)
