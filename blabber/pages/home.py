"""``/``: the chat shell with no room open (anonymous visitors go to /login)."""

import reflex as rx

from blabber import routes
from blabber.components.shell import empty_room_placeholder, shell
from blabber.state.sidebar import SidebarState

PAGE = dict(route=routes.HOME, title=SidebarState.tab_title, on_load=SidebarState.open_home)


def page() -> rx.Component:
    """The shell."""
    return shell(empty_room_placeholder(), with_members=False)
