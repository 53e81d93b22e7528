"""How far back one tab shows a room: plain arithmetic over message ids, no I/O.

A room page shows, oldest first (``blabber.realtime.shown``):

- ``messages``: history *older than* the worker's live feed, paged in from
  the database by ``Load older messages`` or a catch-up after a reconnect;
- then the feed's messages with ``id >= show_from_id``; the feed itself is
  hidden (``has_newer``) once the history reaches so far back that it no
  longer joins the feed.

:class:`Paging` holds those four values for one tab and knows every way
they move: opening the room, revealing hidden feed messages, adding an
older database page, catching up after a reconnect, taking what the feed
trims, and jumping back to the latest. ``RoomState`` copies them to and
from its vars and does the database reads; the invariants live here:

- ``messages`` is ascending, gap-free, and every id in it is older than
  ``show_from_id`` (nothing is shown twice);
- ``len(messages)`` never exceeds ``bound`` (``PAGED_WINDOW_FACTOR`` windows).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from blabber.services.views import MessageView


@dataclasses.dataclass
class Paging:
    """One tab's paged history and where its view of the live feed starts."""

    messages: list[MessageView] = dataclasses.field(default_factory=list)
    has_older: bool = False  # more history before ``messages[0]``
    show_from_id: int = 0  # the oldest feed message shown (0: all of it)
    has_newer: bool = False  # the feed is hidden behind "Jump to latest messages"

    @property
    def paged(self) -> bool:
        """Whether this tab holds history older than the feed (the hub hands it trims)."""
        return bool(self.messages) and not self.has_newer

    def after_history(self) -> int:
        """Where the feed's shown part starts: just after the paged history (0: all of it)."""
        return self.messages[-1].id + 1 if self.messages else 0

    # -- opening, and back to the live end -------------------------------------------
    def open_at_newest(self, feed_ids: Sequence[int], page: int) -> None:
        """Show only the newest ``page`` messages of the feed, no history."""
        self.messages, self.has_older, self.has_newer = [], False, False
        shown = list(feed_ids)[-page:] if page > 0 else []
        self.show_from_id = shown[0] if shown else 0

    def open_around(
        self, rows: Sequence[MessageView], has_older: bool, feed_ids: Sequence[int], target: int
    ) -> None:
        """A permalink: show ``target`` in its context (``rows``, read around it).

        A message still in the feed costs nothing more: the feed is shown from
        ``rows``' oldest message on. An older one shows ``rows`` as history;
        when they stop short of the feed, the feed waits behind "Jump to
        latest messages".
        """
        first_feed = feed_ids[0] if feed_ids else None
        self.has_newer = False
        if first_feed is not None and target >= first_feed:
            self.messages, self.has_older = [], False
            self.show_from_id = min((m.id for m in rows if m.id >= first_feed), default=target)
            return
        self.messages = [m for m in rows if first_feed is None or m.id < first_feed]
        self.has_older = has_older
        self.has_newer = len(self.messages) == len(rows) and first_feed is not None
        self.show_from_id = self.after_history()

    def reveal_from(self, message_id: int) -> None:
        """Show the feed from ``message_id`` on too (no history held): e.g. the first unread."""
        if not self.messages and 0 < message_id < self.show_from_id:
            self.show_from_id = message_id

    # -- a reconnect ----------------------------------------------------------------
    def catch_up_in_feed(self, feed_ids: Sequence[int], seen: int) -> bool:
        """Show every feed message after ``seen``; False when the gap reaches past the feed.

        ``seen`` is the newest id the tab had shown before it lost its socket.
        When it is older than the feed, the caller pages the gap from the
        database and hands it to :meth:`take_missed`.
        """
        if not feed_ids or seen >= feed_ids[-1]:
            return True
        if seen >= feed_ids[0]:
            after = [i for i in feed_ids if i > seen]
            self.show_from_id = min(self.show_from_id, after[0])
            return True
        return False

    def take_missed(self, missed: Sequence[MessageView], seen: int) -> None:
        """The messages before the feed, newest page of them; keep those after ``seen``."""
        self.messages = [m for m in missed if m.id > seen]
        self.has_older = bool(self.messages)  # ``seen`` itself, at least, is older
        self.show_from_id = self.after_history()

    # -- "Load older messages" ---------------------------------------------------------
    def reveal_in_feed(self, feed_ids: Sequence[int], feed_has_older: bool, size: int) -> int:
        """Show up to ``size`` more feed messages; return how many to page from the database.

        Older messages already in the worker's feed cost no query. 0 means
        nothing more is needed (or there is nothing older anywhere).
        """
        if self.messages:
            return size  # already past the feed: the database has the rest
        hidden = [i for i in feed_ids if i < self.show_from_id]
        if len(hidden) >= size or (hidden and not feed_has_older):
            self.show_from_id = hidden[-size:][0]
            return 0
        return size - len(hidden) if feed_has_older else 0

    def add_older(self, page: Sequence[MessageView], want: int, feed_len: int, bound: int) -> None:
        """Prepend an older database page (``want + 1`` rows asked, to learn ``has_older``).

        Past ``bound`` messages in all, the oldest part is kept contiguous and
        the newest part (the feed) waits behind "Jump to latest messages".
        """
        self.has_older = len(page) > want
        self.messages = list(page[-want:] if want > 0 else []) + self.messages
        self.show_from_id = self.after_history()
        if len(self.messages) + feed_len > bound:
            self.messages = self.messages[:bound]
            self.has_newer = True

    # -- the feed rolls over -------------------------------------------------------------
    def keep_trimmed(self, trimmed: Sequence[MessageView], bound: int) -> None:
        """The feed drops its oldest messages: append them to the paged history.

        Keeps the history contiguous with the feed; past ``bound`` the oldest
        part goes. Until the feed's roll-over packet arrives the feed still
        lists these rows, so the shown part of the feed starts after them.
        """
        if not self.messages or self.has_newer:
            return
        last = self.messages[-1].id
        merged = self.messages + [m for m in trimmed if m.id > last]
        if len(merged) > bound:
            merged = merged[-bound:]
            self.has_older = True
        self.messages = merged
        self.show_from_id = self.after_history()
