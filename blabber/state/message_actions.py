"""What a person does to a message already sent: ``Edit``, ``Delete``, ``React``.

The services check, in the transaction of the change, that the caller is a
member of the message's room and its author (edit), its author or the
room's admin (delete); the page only chooses which buttons to offer. Every
change reaches all viewers through the room feed (``events.MESSAGE_CHANGED``),
the caller's own tab included, so nothing is patched here.
"""

from __future__ import annotations

import reflex as rx

from blabber.services import emoji_names, message_changes, messages, reactions
from blabber.state.chat import FAILED, Caller, ChatState, scroll_to_message, signed_in

CHANGE_DOWN = "Could not change the message right now; try again"
# The picker's choices; any single emoji is accepted by the service.
COMMON_REACTIONS = ("👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "🙏")


class MessageActionsState(ChatState):
    """Which of my messages is being edited, and the last refusal of an action."""

    editing_id: int = 0
    action_error: str = ""
    # The React picker's search results: (emoji, name), at most MAX_RESULTS.
    emoji_matches: list[tuple[str, str]] = []

    def _room_closed(self) -> None:
        self.editing_id, self.action_error = 0, ""

    @rx.event
    @signed_in(room=True)
    async def edit_last(self, me: Caller):
        """Up-arrow in the empty composer: edit my newest message in this room."""
        self.action_error = ""
        last = await self._call(
            "action_error", CHANGE_DOWN, messages.my_last_message_id, me.user_id, me.room_id
        )
        if last is not FAILED and last:
            self.editing_id = last
            yield scroll_to_message(last)

    @rx.event
    def search_emoji(self, query: str):
        """The picker's ``Search emoji`` box: emoji whose name matches (no I/O, bounded)."""
        found = emoji_names.search_emoji(query)
        if found != self.emoji_matches:
            self.emoji_matches = found

    @rx.event
    @signed_in(room=True)
    async def start_edit(self, me: Caller, message_id: int):
        """``Edit``: show the message as an editor (the service decides whether I may save)."""
        self.action_error = ""
        self.editing_id = message_id if _is_id(message_id) else 0

    @rx.event
    def cancel_edit(self):
        """Escape in the editor: back to the message as it is."""
        self.editing_id = 0

    @rx.event
    @signed_in(room=True)
    async def save_edit(self, me: Caller, form_data: dict):
        """Enter in the editor: store the new text (empty: refused, unless files remain)."""
        body = form_data.get("body", "") if isinstance(form_data, dict) else ""
        edit = message_changes.edit_message
        done = await self._call(
            "action_error", CHANGE_DOWN, edit, me.user_id, self.editing_id, body
        )
        if done is not FAILED:
            self.editing_id, self.action_error = 0, ""

    @rx.event
    @signed_in(room=True)
    async def delete_message(self, me: Caller, message_id: int):
        """``Delete`` (after the dialog's confirming ``Delete``): gone for everyone."""
        self.action_error = ""
        await self._call(
            "action_error", CHANGE_DOWN, message_changes.delete_message, me.user_id, message_id
        )

    @rx.event
    @signed_in(room=True)
    async def toggle_reaction(self, me: Caller, message_id: int, emoji: str):
        """A reaction chip or the ``React`` picker: add my emoji, or take it back."""
        self.action_error = ""
        await self._call(
            "action_error", CHANGE_DOWN, reactions.toggle_reaction, me.user_id, message_id, emoji
        )


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
