"""Which messages a room page shows: the one plain-Python statement of the rule.

``blabber/components/room_view.py`` (``room_view``) renders it in the browser; the
bench client, the soak and the tests' protocol client compute it here from
the var values they received, so they count exactly the rows a person sees.
``tests/test_shown.py`` runs the component's compiled rendering against
:func:`shown_messages` and fails if the two ever differ.

The rule, in order:

1. **Nothing while the room loads** (``loading_room``): the page shows a
   spinner instead of rows while ``open_room`` replaces the vars, so
   nothing half-loaded (or left from the previous view) is ever listed.
2. **Paged history** (``messages``, the tab's own history older than the
   feed, filled by ``Load older messages``), all of it, oldest first.
3. **Then the room's live feed** (``recent`` + ``tail``, in that order), but
   only when
   * it is the feed of the room this tab shows (feed ``room`` equals
     ``room_name``): after navigating, the previous room's feed may still be
     in the browser until the new one arrives, and must not show under the
     new heading; and
   * the tab is not reading history far back (not ``has_newer``): its paged
     history then ends before the feed starts, and the newest part waits
     behind ``Jump to latest messages``;
4. and of the feed only the messages from ``show_from_id`` on: a room opens
   with the newest page of the feed, and paging back first lowers
   ``show_from_id`` (no query) before it reads older pages from the database;
5. a ``recent`` row shows its newer version from ``changes`` (id -> message)
   when there is one: an edit, deletion or reaction of an older feed row is
   sent as that one message, not as the whole of ``recent``.

Messages are the plain dicts the vars carry (``MessageView`` as sent); system
lines ("bob joined") are rows like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Message = dict[str, Any]

# The vars the rule reads, by the State that holds them. ``room_view`` must read
# exactly these (tests/test_shown.py); clients read them under these names.
CHAT_VARS = ("messages", "room_name", "loading_room", "has_newer", "show_from_id")  # chat states
FEED_VARS = ("room", "recent", "tail", "changes")  # FeedState


def feed_shown(*, room_name: str, has_newer: bool, feed_room: str) -> bool:
    """Whether the room feed's rows are on the page at all (rule 3)."""
    return feed_room == room_name and not has_newer


def shown_messages(
    *,
    messages: Sequence[Message],
    room_name: str,
    loading_room: bool,
    has_newer: bool,
    show_from_id: int,
    feed_room: str,
    recent: Sequence[Message],
    tail: Sequence[Message],
    changes: Mapping[str, Message] | None = None,
) -> list[Message]:
    """The message rows of a room page, top to bottom (see the module docstring).

    Args:
        messages: ``RoomState.messages``, the tab's paged history.
        room_name: ``ChatState.room_name``, the room the page shows (every feature state reads it).
        loading_room: ``RoomState.loading_room``, the room is being opened.
        has_newer: ``RoomState.has_newer``, newer history waits behind "Jump to latest".
        show_from_id: ``RoomState.show_from_id``, the oldest feed message shown.
        feed_room: ``FeedState.room``, whose feed the browser holds.
        recent: ``FeedState.recent``, the older part of the feed.
        tail: ``FeedState.tail``, the newest few feed messages.
        changes: ``FeedState.changes``, newer versions of ``recent`` rows by str(id).

    Returns:
        The shown messages, in order.
    """
    if loading_room:
        return []
    shown = list(messages)
    if feed_shown(room_name=room_name, has_newer=has_newer, feed_room=feed_room):
        changes = changes or {}
        latest = [changes.get(str(m["id"]), m) for m in recent]
        shown += [m for m in (*latest, *tail) if m["id"] >= show_from_id]
    return shown


def shown_from_vars(chat: Callable[[str], Any], feed: Callable[[str], Any]) -> list[Message]:
    """:func:`shown_messages` from two lookups of received var values by name.

    ``chat(name)`` / ``feed(name)`` return the last value received for a var
    of :data:`CHAT_VARS` / :data:`FEED_VARS`, or ``None`` if none arrived yet;
    the page then holds the var's default (empty, ``False``, 0), and so does
    this.
    """
    return shown_messages(
        messages=chat("messages") or [],
        room_name=chat("room_name") or "",
        loading_room=bool(chat("loading_room")),
        has_newer=bool(chat("has_newer")),
        show_from_id=chat("show_from_id") or 0,
        feed_room=feed("room") or "",
        recent=feed("recent") or [],
        tail=feed("tail") or [],
        changes=feed("changes") or {},
    )
