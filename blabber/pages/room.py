"""``/rooms/<name>``: one room, so reload and back/forward keep it open."""

import reflex as rx

from blabber import routes
from blabber.components.chat import room_view, shell
from blabber.state.chat import ChatState

PAGE = dict(route=routes.ROOM, title="Blabber", on_load=ChatState.open_room)


def page() -> rx.Component:
    """The open room."""
    return shell(room_view(), with_members=True)
