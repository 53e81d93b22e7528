"""The rooms sidebar: my rooms with unread badges, the join box, the notice banner."""

from __future__ import annotations

import contextlib
import dataclasses
import json

import reflex as rx

from blabber import db, routes
from blabber.realtime.runtime import runtime
from blabber.services import conversations, rooms, site_admin
from blabber.services.conversations import DirectSummary
from blabber.services.notification_rule import APP_NAME, Entry, notification_for, unread_total
from blabber.services.views import RoomSummary
from blabber.settings import get_settings
from blabber.state.chat import FAILED, Caller, ChatState, signed_in

JOIN_DOWN = "Could not join right now; try again in a moment"


class SidebarState(ChatState):
    """My rooms and conversations, the ``Join`` form, notices (``You were removed from …``).

    ``rooms`` and ``directs`` are what the database said in the last handler
    or live event; the open room's badge is always 0 (its messages are read
    as they come). Unread counts and mentions elsewhere arrive live
    (:meth:`_count_unread`), the hot path of a busy team: it loads this
    state alone.
    """

    rooms: list[RoomSummary] = []
    site_admin: bool = False  # the sidebar's Admin link (services.site_admin)
    directs: list[DirectSummary] = []
    join_error: str = ""
    joining: bool = False
    notice: str = ""

    _online: list[int] = []  # which of my conversations' people are online

    def _room_closed(self) -> None:
        """Nothing: the sidebar lists every room of mine, open or not."""

    @rx.var
    def unread_total(self) -> int:
        """What the browser tab's title counts: rooms by my level, conversations always."""
        return unread_total(self.rooms, self.directs)

    @rx.var
    def tab_title(self) -> str:
        """``(3) Blabber`` while something waits for me, else ``Blabber``."""
        total = self.unread_total
        return f"({total}) {APP_NAME}" if total else APP_NAME

    @rx.event
    @signed_in(page_load=True)
    async def open_home(self, me: Caller):
        """on_load of ``/``: the shell with my rooms and no room open."""
        await self._show_no_room(me.user_id)

    @rx.event
    @signed_in
    async def join_room(self, me: Caller, form_data: dict):
        """Join (or create) the room named in the form, then open it."""
        self.join_error = ""
        self.joining = True
        yield  # the browser shows "Joining…" while the service runs
        name = str(form_data.get("room_name", "")) if isinstance(form_data, dict) else ""
        room = await self._call("join_error", JOIN_DOWN, rooms.join_room, me.user_id, name)
        self.joining = False
        if room is not FAILED:
            path = routes.room_path(room.url_name)
            yield [rx.set_value("room_name_input", ""), rx.redirect(path)]

    @rx.event
    def dismiss_notice(self):
        """Close the notice banner."""
        self.notice = ""

    # -- used by the room view and live events ---------------------------------
    async def _show_no_room(self, user_id: int, notice: str | None = None) -> None:
        """Close the open room, re-read my rooms, and register that with the hub.

        ``notice`` (if given) replaces the banner, e.g. why the room closed.
        """
        await self._close_room()
        if notice is not None:
            self.notice = notice
        await self._refresh_rooms(user_id)
        await self._register(user_id, self._room_ids())

    async def _refresh_rooms(self, user_id: int) -> None:
        """Re-read my rooms and conversations, after writing this worker's read marks."""
        with contextlib.suppress(Exception):
            await runtime().flush_read_marks()
        ttl = get_settings().presence_ttl_seconds
        listed, directs, online = await db.run_in_session(conversations.sidebar_lists, user_id, ttl)
        admin = await db.run_in_session(site_admin.is_site_admin, user_id)
        if admin != self.site_admin:  # an equal assignment still sends a delta
            self.site_admin = admin
        opened = self._room_id
        self.rooms = [
            dataclasses.replace(r, unread=0, mentions=0) if r.id == opened else r for r in listed
        ]
        self.directs = [
            dataclasses.replace(d, unread=0, mentions=0) if d.id == opened else d for d in directs
        ]
        self._online = sorted(online)
        contacts = sorted({uid for d in directs for uid in d.other_ids})
        if contacts != self._contacts:
            self._contacts = contacts

    def _room_ids(self) -> list[int]:
        """Every room and conversation of mine (what the hub counts unread for)."""
        return [r.id for r in self.rooms] + [d.id for d in self.directs]

    def _level_of(self, room_id: int) -> str | None:
        """My level in one of my rooms or conversations, as last read."""
        entries: list[Entry] = [*self.rooms, *self.directs]
        for entry in entries:
            if entry.id == room_id:
                return entry.level
        return None

    def _drop_room(self, room_id: int, notice: str) -> None:
        """A room I lost (removed by an admin), with the notice that says so."""
        self.rooms = [r for r in self.rooms if r.id != room_id]
        self.notice = notice

    def _presence_changed(self, changes: list[dict]) -> None:
        """Some of my conversations' people came or went: move their dots."""
        online = set(self._online)
        for change in changes:
            uid = change.get("user_id")
            if isinstance(uid, int) and uid in self._contacts:
                (online.add if change.get("online") else online.discard)(uid)
        if online == set(self._online):
            return
        self._online = sorted(online)
        self.directs = [
            dataclasses.replace(d, online=any(uid in online for uid in d.other_ids))
            for d in self.directs
        ]

    def _count_unread(self, counts: list[dict]) -> list:
        """New messages in my other rooms and conversations: badges, then one notification.

        The hub folds them per room (``events.UNREAD``), without my own and
        without system lines, matching ``rooms.list_my_rooms``, so a badge
        does not change on reload. Mentions of me are counted apart. One
        toast per delivery at most: the newest mention, else the newest
        message of a room whose level lets it speak (``notification_rule``).
        """
        listed: list[Entry] = [*self.rooms, *self.directs]
        entries = {e.id: e for e in listed}
        fresh = [c for c in counts if c.get("room_id") in entries and c["room_id"] != self._room_id]
        if not fresh:
            return []
        added = {c["room_id"]: (int(c.get("count", 0)), int(c.get("mentions", 0))) for c in fresh}
        self.rooms = [_plus(r, *added.get(r.id, (0, 0))) for r in self.rooms]
        newest = {c["room_id"]: int(c.get("last", {}).get("id", 0)) for c in fresh}
        directs = [_plus(d, *added.get(d.id, (0, 0))) for d in self.directs]
        directs = [
            dataclasses.replace(d, last_message_id=max(d.last_message_id, newest.get(d.id, 0)))
            for d in directs
        ]
        self.directs = sorted(directs, key=lambda d: (-d.last_message_id, d.id))
        said = notification_for(fresh, entries)
        return notify(*said) if said else []


def _plus(entry, unread: int, mentions: int):
    """An entry with more unread messages and mentions (unchanged when none)."""
    if not unread and not mentions:
        return entry
    return dataclasses.replace(
        entry, unread=entry.unread + unread, mentions=entry.mentions + mentions
    )


def notify(title: str, body: str) -> list:
    """A toast, plus a browser notification when the tab is hidden and allowed.

    Text goes through ``json.dumps`` so user content can never become script.
    """
    script = (
        "if (document.hidden && window.Notification && Notification.permission === 'granted')"
        f" {{ new Notification({json.dumps(title)}, {{body: {json.dumps(body)}}}); }}"
    )
    return [rx.toast.info(title), rx.call_script(script)]
