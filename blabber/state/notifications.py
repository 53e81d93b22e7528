"""The open room's ``Notifications`` menu: ``All messages``, ``Mentions only``, ``Nothing``.

The level is stored on my membership (``services.notification_levels``),
so it applies in every tab and device at once: the service tells all my
tabs, whose sidebars re-read their rooms (``live_events``) and so set this
var again from what the database says.
"""

from __future__ import annotations

import reflex as rx

from blabber.models import NotifyLevel
from blabber.services import notification_levels
from blabber.state.chat import FAILED, Caller, ChatState, signed_in

LEVEL_DOWN = "Could not change notifications right now; try again"


class NotificationsState(ChatState):
    """My notification level in the open room, and the menu's error."""

    level: str = NotifyLevel.ALL.value
    level_error: str = ""

    def _room_closed(self) -> None:
        self.level_error = ""

    def _room_opened(self, level: str) -> None:
        """The level the database holds for the room just opened."""
        self.level = level

    @rx.event
    @signed_in(room=True)
    async def set_level(self, me: Caller, level: str):
        """Choose how much the open room may tell me (the service checks the choice)."""
        self.level_error = ""
        stored = await self._call(
            "level_error",
            LEVEL_DOWN,
            notification_levels.set_notify_level,
            me.user_id,
            me.room_id,
            level,
        )
        if stored is not FAILED:
            self.level = stored
