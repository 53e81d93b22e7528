"""``/rooms/<name>``: one room, so reload and back/forward keep it open."""

import reflex as rx

from blabber import routes
from blabber.components.room_view import room_view
from blabber.components.shell import shell
from blabber.state.room import RoomState
from blabber.state.sidebar import SidebarState

PAGE = dict(route=routes.ROOM, title=SidebarState.tab_title, on_load=RoomState.open_room)


def page() -> rx.Component:
    """The open room."""
    return shell(room_view(), with_members=True)
