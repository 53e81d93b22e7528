"""What my notification levels let a room say: the tab title's count, and which toast.

Levels (``models.NotifyLevel``, set per room in ``Notifications``):

- ``all``: every message by someone else is unread and may raise a toast
  (and a browser notification while the tab is hidden);
- ``mentions`` (``Mentions only``): the unread count is still listed, muted;
  only a mention raises a toast or counts in the title;
- ``nothing``: no unread badge and no toast; mentions are still counted,
  and still notify.

Direct conversations count in the title whatever their level (a message to
me is always for me); their toasts follow their level like a room's. Plain
functions over the sidebar's entries, so tests need no browser.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from blabber.models import NotifyLevel
from blabber.services.conversations import DirectSummary
from blabber.services.file_types import files_label
from blabber.services.views import RoomSummary

APP_NAME = "Blabber"
EXCERPT_CHARS = 120
Entry = RoomSummary | DirectSummary


def counted(entry: Entry) -> int:
    """How much one sidebar entry adds to the title's ``(N)``."""
    if isinstance(entry, DirectSummary) or entry.level == NotifyLevel.ALL.value:
        return entry.unread
    return entry.mentions


def unread_total(rooms: Iterable[RoomSummary], directs: Iterable[DirectSummary]) -> int:
    """The number in the browser tab's title: ``(3) Blabber``."""
    return sum(counted(e) for e in rooms) + sum(counted(d) for d in directs)


def notification_for(
    fresh: list[dict[str, Any]], entries: Mapping[int, Entry]
) -> tuple[str, str] | None:
    """The one toast (title, body) for a delivery of unread counts, or None.

    ``fresh`` are the hub's ``UNREAD`` entries for rooms of mine I am not
    viewing (``count``, ``last``; ``mentions``, ``mention`` when any).
    The newest mention wins; else the newest message of an entry whose
    level is ``all``.
    """
    mentioning = [c for c in fresh if c.get("mentions") and isinstance(c.get("mention"), dict)]
    if mentioning:
        entry = max(mentioning, key=lambda c: _id(c["mention"]))
        message = entry["mention"]
        where = _where(entries[entry["room_id"]])
        return f"{message.get('author', '')} mentioned you in {where}", _excerpt(message)
    loud = [c for c in fresh if entries[c["room_id"]].level == NotifyLevel.ALL.value]
    if not loud:
        return None
    entry = max(loud, key=lambda c: _id(c.get("last", {})))
    message, room = entry.get("last", {}), entries[entry["room_id"]]
    if isinstance(room, DirectSummary):
        return f"New message from {message.get('author', '')}", _excerpt(message)
    return f"New message in {room.name}", _excerpt(message)


def _where(entry: Entry) -> str:
    return "a direct message" if isinstance(entry, DirectSummary) else entry.name


def _id(message: Mapping[str, Any]) -> int:
    value = message.get("id", 0)
    return value if isinstance(value, int) else 0


def _excerpt(message: Mapping[str, Any]) -> str:
    files = [f for f in message.get("files") or [] if isinstance(f, Mapping)]
    text = str(message.get("body", "")).strip() or files_label(
        [str(f.get("name", "")) for f in files]
    )
    return f"{message.get('author', '')}: {text[:EXCERPT_CHARS]}"
