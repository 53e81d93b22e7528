"""Plain read models that services return and states display.

They carry only what a member may see: no password hashes, no tokens.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ReactionView:
    """One emoji under a message: how many people chose it, and who (for the hover)."""

    emoji: str
    count: int
    users: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class FileView:
    """A file under a message: what its card or thumbnail shows, and where to fetch it."""

    id: int
    name: str
    size: int
    size_label: str
    image: bool = False
    width: int = 0
    height: int = 0
    url: str = ""  # the file itself (a download, or the full picture)
    thumb_url: str = ""  # pictures only: the inline thumbnail
    # Pictures only: the thumbnail's size on the page (within 320x240, never enlarged), so
    # its space is reserved before it loads and the list does not jump.
    shown_width: int = 0
    shown_height: int = 0


@dataclasses.dataclass(frozen=True)
class MessageView:
    """A message as shown in the room, in its latest version.

    ``seq`` is the room's change number of this version (services.room_order):
    of two views of one message, the one with the higher ``seq`` is newer.
    A reply carries a short quote of its original (``reply_*``), or
    ``reply_deleted`` when the original is gone. A deleted message has an
    empty body and no reactions.

    ``continued`` and ``prev_at`` describe the message just before it in
    the room (facts that never change: rows are never removed), so the page
    groups and divides the list row by row whatever part of it it shows:
    ``continued`` when both are one person's and at most
    :data:`GROUP_SECONDS` apart (the name and time are shown once),
    ``prev_at`` its time, for the day divider the browser draws in the
    viewer's own time zone.
    """

    id: int
    room_id: int
    author: str
    kind: str
    body: str
    created_at: str  # ISO 8601, UTC; the browser shows it in local time
    client_id: str = ""
    seq: int = 0
    edited: bool = False
    deleted: bool = False
    reply_to_id: int = 0
    reply_author: str = ""
    reply_excerpt: str = ""
    reply_deleted: bool = False
    reactions: list[ReactionView] = dataclasses.field(default_factory=list)
    continued: bool = False
    prev_at: str = ""  # ISO 8601 UTC of the message before it in the room ("" for the first)
    author_display: str = ""  # the author's display name, if they set one (else the username)
    author_avatar: str = ""  # the author's profile picture's URL ("" shows no picture)
    files: list[FileView] = dataclasses.field(default_factory=list)  # in the order attached

    def as_row(self) -> dict:
        """The JSON form for events and feed packets.

        The optional fields (edit, deletion, reply, reactions) are left out
        while they hold their defaults, so a plain message costs on the wire
        what it did before they existed; the page reads a missing field as
        false or empty, and :meth:`from_dict` restores the defaults.
        """
        row = dataclasses.asdict(self)
        for name in OPTIONAL_MESSAGE_FIELDS:
            if not row[name]:
                del row[name]
        return row

    @classmethod
    def from_dict(cls, data: dict) -> MessageView:
        """The view from its JSON form (an event's payload, a feed's row)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["reactions"] = [
            r if isinstance(r, ReactionView) else ReactionView(**r)
            for r in values.get("reactions", [])
        ]
        values["files"] = [
            f if isinstance(f, FileView) else FileView(**f) for f in values.get("files", [])
        ]
        return cls(**values)


# What MessageView.as_row leaves out at their defaults (all falsy).
OPTIONAL_MESSAGE_FIELDS = (
    "edited",
    "deleted",
    "reply_to_id",
    "reply_author",
    "reply_excerpt",
    "reply_deleted",
    "reactions",
    "continued",
    "prev_at",
    "author_display",
    "author_avatar",
    "files",
)

GROUP_SECONDS = 5 * 60  # one author's consecutive messages this close share a heading


@dataclasses.dataclass(frozen=True)
class RoomSummary:
    """A sidebar entry: one of my rooms and how much I have not read."""

    id: int
    name: str
    unread: int = 0
    last_read_id: int = 0  # my read mark: the newest message I have been shown
    mentions: int = 0  # of those unread, how many name me (the mention badge)
    level: str = "all"  # my notification level here (models.NotifyLevel)
    # What ``/rooms/<url_name>`` says: the name of a public room, the random
    # key of a private one (whose name may also be a public room's).
    url_name: str = ""
    private: bool = False
    topic: str = ""


@dataclasses.dataclass(frozen=True)
class MemberView:
    """A row of the Members panel."""

    user_id: int
    username: str
    role: str
    online: bool = False
    avatar: str = ""  # their profile picture's URL, "" for none (initials)


@dataclasses.dataclass(frozen=True)
class BanView:
    """A row of the admin's Banned list."""

    user_id: int
    username: str
