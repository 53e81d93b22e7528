"""The rooms sidebar: who I am, the ``Join`` box and my rooms with unread badges."""

from __future__ import annotations

import reflex as rx

from blabber.components.common import brand, color_mode_toggle, error_text
from blabber.services.views import RoomSummary
from blabber.state.auth import AuthState
from blabber.state.chat import ChatState
from blabber.state.sidebar import SidebarState

ASK_NOTIFICATIONS = (
    "if (window.Notification && Notification.permission === 'default') "
    "{ Notification.requestPermission(); }"
)


def _room_entry(room: rx.Var[RoomSummary]) -> rx.Component:
    current = ChatState.room_name == room.name
    return rx.link(
        rx.hstack(
            rx.text("# ", room.name, trim="both", truncate=True),
            rx.spacer(),
            rx.cond(
                room.unread > 0,
                rx.badge(
                    room.unread,
                    color_scheme="red",
                    # Red step 12 text: the regular red is 4.4:1 on the badge, under 4.5:1.
                    high_contrast=True,
                    radius="full",
                    data_testid="unread-badge",
                ),
            ),
            align="center",
            width="100%",
            padding_x="0.6em",
            padding_y="0.35em",
            border_radius="6px",
            background=rx.cond(current, rx.color("accent", 4), "transparent"),
            font_weight=rx.cond(current, "bold", "normal"),
        ),
        href="/rooms/" + room.name,
        underline="none",
        color=rx.color("gray", 12),
        aria_current=rx.cond(current, "page", "false"),
        data_testid="room-entry",
        width="100%",
    )


def sidebar() -> rx.Component:
    """My identity, the join box and my rooms."""
    return rx.vstack(
        rx.hstack(brand(), rx.spacer(), color_mode_toggle(), width="100%", align="center"),
        rx.hstack(
            rx.avatar(fallback=AuthState.username.to(str)[:2], size="2", radius="full"),
            rx.text(
                AuthState.username, weight="bold", data_testid="current-username", truncate=True
            ),
            rx.spacer(),
            rx.button("Log out", on_click=AuthState.log_out, variant="soft", size="1"),
            width="100%",
            align="center",
        ),
        rx.form(
            rx.hstack(
                rx.input(
                    placeholder="Room name",
                    name="room_name",
                    id="room_name_input",
                    aria_label="Room name",
                    max_length=60,
                    width="100%",
                ),
                rx.button("Join", type="submit", loading=SidebarState.joining),
                width="100%",
            ),
            on_submit=SidebarState.join_room,
            reset_on_submit=False,
            width="100%",
        ),
        error_text(SidebarState.join_error, "join-error"),
        rx.text("Rooms", size="1", weight="bold", color_scheme="gray"),
        rx.cond(
            SidebarState.rooms.length() > 0,
            rx.vstack(rx.foreach(SidebarState.rooms, _room_entry), width="100%", spacing="1"),
            rx.text(
                "No rooms yet. Type a name above to create or join one.",
                size="2",
                color_scheme="gray",
            ),
        ),
        rx.spacer(),
        rx.button(
            "Enable notifications",
            on_click=rx.call_script(ASK_NOTIFICATIONS),
            variant="ghost",
            size="1",
        ),
        height="100%",
        padding="1em",
        spacing="3",
        width="100%",
    )
