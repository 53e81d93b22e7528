"""``Room settings`` (the room admin's): name, topic, public/private, and ``Delete room``.

What changed reaches every member's tabs as a live event (``ROOM_CHANGED``,
``state/live_events.py``), this one included: a new URL is followed there,
a deleted room is left there, so this state only sends the change.
"""

from __future__ import annotations

import functools

import reflex as rx

from blabber.services import room_settings
from blabber.state.chat import FAILED, Caller, ChatState, signed_in

SAVE_DOWN = "Could not change the room right now; try again"


class RoomSettingsState(ChatState):
    """Whether the dialog is open, and what went wrong."""

    settings_open: bool = False
    settings_error: str = ""
    confirm_delete: bool = False  # ``Delete room`` pressed: the confirmation shows
    saving_settings: bool = False

    def _room_closed(self) -> None:
        self.settings_open, self.settings_error, self.confirm_delete = False, "", False

    @rx.event
    def show_settings(self, open_: bool):
        """The dialog opened or closed (its fields start from the room as shown)."""
        self.settings_open, self.settings_error, self.confirm_delete = bool(open_), "", False

    @rx.event
    def ask_delete(self, ask: bool):
        """``Delete room`` shows its confirmation; ``Keep the room`` hides it."""
        self.confirm_delete = bool(ask)

    @rx.event
    @signed_in(room=True)
    async def save_room_settings(self, me: Caller, form_data: dict):
        """``Save``: name, topic and ``Private`` at once (the service checks I am admin)."""
        self.settings_error = ""
        form = form_data if isinstance(form_data, dict) else {}
        update = functools.partial(
            room_settings.update_room,
            name=str(form.get("name", "")),
            topic=str(form.get("topic", "")),
            private=form.get("private") in ("on", True, "true"),
        )
        self.saving_settings = True
        yield
        saved = await self._call("settings_error", SAVE_DOWN, update, me.user_id, me.room_id)
        self.saving_settings = False
        if saved is not FAILED:
            self.settings_open = False

    @rx.event
    @signed_in(room=True)
    async def delete_room(self, me: Caller):
        """``Delete room`` (confirmed): the room and its messages go, for everyone."""
        self.settings_error = ""
        deleted = await self._call(
            "settings_error", SAVE_DOWN, room_settings.delete_room, me.user_id, me.room_id
        )
        if deleted is not FAILED:
            self.settings_open = False
