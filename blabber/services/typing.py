"""Typing notices: published straight to the broker, never written to the DB.

The caller (the chat state) has already checked membership for the room it
shows; a typing notice carries only the username and room id.
"""

from __future__ import annotations

from blabber.realtime import events
from blabber.realtime.broker import BrokerUnavailable, get_broker


async def announce_typing(user_id: int, username: str, room_id: int) -> None:
    """Tell the room's open tabs that ``username`` is typing (best effort)."""
    try:
        await get_broker().publish_async(
            events.Event(
                type=events.TYPING, room_id=room_id, user_id=user_id, data={"username": username}
            )
        )
    except BrokerUnavailable:
        pass  # typing is ephemeral; losing one notice is harmless
