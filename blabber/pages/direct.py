"""``/dm/<id>``: a direct conversation; its URL stays the same for as long as it exists."""

import reflex as rx

from blabber import routes
from blabber.components.room_view import room_view
from blabber.components.shell import shell
from blabber.state.room import RoomState
from blabber.state.sidebar import SidebarState

PAGE = dict(route=routes.DIRECT, title=SidebarState.tab_title, on_load=RoomState.open_room)


def page() -> rx.Component:
    """The open conversation (the same view as a room's)."""
    return shell(room_view(), with_members=True)
