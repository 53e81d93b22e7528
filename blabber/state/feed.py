"""The open room's live feed as the browser holds it (``FeedState``).

These vars are never set by a handler. The worker sends them straight to
the room's viewers as one packet per change (``blabber.realtime.room_feeds``), built
once per room by ``blabber.realtime.feeds.RoomFeed``; no per-tab state is
locked, loaded or written for it. Because the server-side copy stays at its
defaults and is never dirty, Reflex never overwrites what the worker sent,
except on a (re)hydrate, after which opening the room sends the feed again.

Rendering checks ``room`` against the tab's ``ChatState.room_name`` so the
previous room's feed never shows under a new heading.
"""

from __future__ import annotations

import reflex as rx

from blabber.services.views import MemberView, MessageView


class FeedState(rx.State):
    """Newest messages, typing line and Members panel of the open room."""

    room: str = ""
    recent: list[MessageView] = []  # re-sent when the tail rolls over
    tail: list[MessageView] = []  # newest few; re-sent on every message
    # Newer versions of ``recent`` rows (str(id) -> message), laid over them.
    changes: dict[str, MessageView] = {}
    first_id: int = 0
    has_older: bool = False
    typing_text: str = ""
    members: list[MemberView] = []
    admins: list[str] = []
    member_count: int = 0
    online_count: int = 0
    # Live delivery is interrupted on this worker (broker down): say so.
    degraded: bool = False
    # "<room id>:<newest id shown>", kept in the tab's sessionStorage: after a
    # reconnect (network drop, worker restart, laptop sleep) the hydrate hands
    # it back and opening the room shows everything after it.
    seen: str = rx.SessionStorage("", name="blabber_feed_seen")
