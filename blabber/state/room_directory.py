"""``Browse rooms`` and ``Create room``: finding public rooms, and starting new ones.

The directory holds at most ``room_directory.LIMIT`` rows (a filter narrows
them); joining takes the row's id and looks it up among the rows the server
listed, so a crafted call can only join what ``Browse rooms`` offered.
"""

from __future__ import annotations

import functools

import reflex as rx

from blabber import routes
from blabber.services import room_creation, room_directory, rooms
from blabber.services.room_directory import ListedRoom
from blabber.state.chat import FAILED, Caller, ChatState, signed_in

BROWSE_DOWN = "Could not list rooms right now; try again"
CREATE_DOWN = "Could not create the room right now; try again"


class DirectoryState(ChatState):
    """The directory dialog's rows and filter, and the ``Create room`` dialog."""

    directory_open: bool = False
    listed: list[ListedRoom] = []
    directory_query: str = ""
    directory_loading: bool = False
    directory_error: str = ""

    create_open: bool = False
    creating: bool = False
    create_error: str = ""

    def _room_closed(self) -> None:
        """Nothing: the dialogs are not about the open room."""

    # -- Browse rooms -----------------------------------------------------------
    @rx.event
    @signed_in
    async def show_directory(self, me: Caller, open_: bool):
        """The dialog opened (list from the start) or closed (forget the rows)."""
        self.directory_open = bool(open_)
        self.directory_query, self.directory_error, self.listed = "", "", []
        if self.directory_open:
            self.directory_loading = True
            yield
            await self._list(me, "")

    @rx.event
    @signed_in
    async def filter_directory(self, me: Caller, query: str):
        """``Filter rooms``: public rooms whose name or topic contains it."""
        self.directory_query = query[: room_directory.MAX_FILTER] if isinstance(query, str) else ""
        await self._list(me, self.directory_query)

    async def _list(self, me: Caller, query: str) -> None:
        self.directory_error = ""
        found = await self._call(
            "directory_error", BROWSE_DOWN, room_directory.browse, me.user_id, query
        )
        self.directory_loading = False
        if found is not FAILED:
            self.listed = found

    @rx.event
    @signed_in
    async def join_listed(self, me: Caller, room_id: int):
        """A row's ``Join`` (or ``Open``): join that public room and go to it."""
        row = next((r for r in self.listed if r.id == room_id), None)
        if row is None:
            return  # only what the directory listed
        room = await self._call(
            "directory_error", BROWSE_DOWN, rooms.join_room, me.user_id, row.name
        )
        if room is FAILED:
            return
        self.directory_open, self.listed = False, []
        yield rx.redirect(routes.room_path(room.url_name))

    # -- Create room ------------------------------------------------------------
    @rx.event
    def show_create(self, open_: bool):
        """The ``Create room`` dialog opened or closed."""
        self.create_open, self.create_error = bool(open_), ""

    @rx.event
    @signed_in
    async def create_room(self, me: Caller, form_data: dict):
        """``Create``: a new room (``Private`` on: not listed, not joinable by name)."""
        self.create_error = ""
        form = form_data if isinstance(form_data, dict) else {}
        name, topic = str(form.get("name", "")), str(form.get("topic", ""))
        private = form.get("private") in ("on", True, "true")
        self.creating = True
        yield
        create = functools.partial(room_creation.create_room, private=private, topic=topic)
        room = await self._call("create_error", CREATE_DOWN, create, me.user_id, name)
        self.creating = False
        if room is FAILED:
            return
        self.create_open = False
        yield rx.redirect(routes.room_path(room.url_name))
