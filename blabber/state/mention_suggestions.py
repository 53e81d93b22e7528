"""The composer's ``@`` suggestions: the members whose name starts with what follows ``@``.

The browser (``assets/mentions.js``) watches the composer, sends the
letters typed after an ``@`` (or None when the caret leaves a mention) and
handles the keys; this state only holds the few names to offer.
"""

from __future__ import annotations

import logging

import reflex as rx

from blabber import db
from blabber.services import mention_suggestions
from blabber.state.chat import Caller, ChatState, signed_in

log = logging.getLogger(__name__)


class MentionSuggestionsState(ChatState):
    """At most ``mention_suggestions.LIMIT`` usernames offered after ``@`` (empty: no list)."""

    mention_options: list[str] = []

    def _room_closed(self) -> None:
        self._show([])

    def _show(self, options: list[str]) -> None:
        if options != self.mention_options:  # an equal assignment still sends a delta
            self.mention_options = options

    @rx.event
    @signed_in(room=True)
    async def suggest_mentions(self, me: Caller, prefix: str | None):
        """The letters after the ``@`` at the caret ("" for just ``@``); None closes the list."""
        if prefix is None:
            self._show([])
            return
        try:
            options = await db.run_in_session(
                mention_suggestions.suggest, me.user_id, me.room_id, prefix
            )
        except Exception:  # best effort: no suggestions is not an error to show
            log.info("mention suggestions failed", exc_info=True)
            options = []
        self._show(options)

    @rx.event
    def close_mentions(self):
        """Escape, a pick, or leaving the composer: no list."""
        self._show([])
