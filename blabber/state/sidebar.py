"""The rooms sidebar: my rooms with unread badges, the join box, the notice banner."""

from __future__ import annotations

import contextlib
import json

import reflex as rx

from blabber import db, routes
from blabber.realtime.runtime import runtime
from blabber.services import rooms
from blabber.services.views import RoomSummary
from blabber.state.chat import FAILED, Caller, ChatState, signed_in

JOIN_DOWN = "Could not join right now; try again in a moment"


class SidebarState(ChatState):
    """My rooms, the ``Join`` form, and notices about rooms (``You were removed from …``).

    ``rooms`` is what the database said in the last handler or live event;
    the open room's badge is always 0 (its messages are read as they come).
    Unread counts for the other rooms arrive live (:meth:`_count_unread`),
    the hot path of a busy team: it loads this state alone.
    """

    rooms: list[RoomSummary] = []
    join_error: str = ""
    joining: bool = False
    notice: str = ""

    def _room_closed(self) -> None:
        """Nothing: the sidebar lists every room of mine, open or not."""

    @rx.event
    @signed_in
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
            yield [rx.set_value("room_name_input", ""), rx.redirect(routes.room_path(room.name))]

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
        """Re-read my rooms, after writing this worker's read marks (so counts are right)."""
        with contextlib.suppress(Exception):
            await runtime().flush_read_marks()
        listed = await db.run_in_session(rooms.list_my_rooms, user_id)
        self.rooms = [RoomSummary(r.id, r.name, 0) if r.id == self._room_id else r for r in listed]

    def _room_ids(self) -> list[int]:
        return [r.id for r in self.rooms]

    def _drop_room(self, room_id: int, notice: str) -> None:
        """A room I lost (removed by an admin), with the notice that says so."""
        self.rooms = [r for r in self.rooms if r.id != room_id]
        self.notice = notice

    def _count_unread(self, counts: list[dict]) -> list:
        """New messages in my other rooms: raise the sidebar badges, notify once.

        The hub folds them per room (``events.UNREAD``), without my own and
        without system lines, matching ``rooms.list_my_rooms``, so a badge
        does not change on reload. One toast per delivery, naming the newest
        message.
        """
        mine = {r.id: r for r in self.rooms}
        fresh = [c for c in counts if c.get("room_id") in mine and c["room_id"] != self._room_id]
        if not fresh:
            return []
        added = {c["room_id"]: int(c.get("count", 0)) for c in fresh}
        self.rooms = [RoomSummary(r.id, r.name, r.unread + added.get(r.id, 0)) for r in self.rooms]
        newest = max(fresh, key=lambda c: c.get("last", {}).get("id", 0))
        last = newest.get("last", {})
        room_name = mine[newest["room_id"]].name
        body = f"{last.get('author', '')}: {str(last.get('body', ''))[:120]}"
        return notify(f"New message in {room_name}", body)


def notify(title: str, body: str) -> list:
    """A toast, plus a browser notification when the tab is hidden and allowed.

    Text goes through ``json.dumps`` so user content can never become script.
    """
    script = (
        "if (document.hidden && window.Notification && Notification.permission === 'granted')"
        f" {{ new Notification({json.dumps(title)}, {{body: {json.dumps(body)}}}); }}"
    )
    return [rx.toast.info(title), rx.call_script(script)]
