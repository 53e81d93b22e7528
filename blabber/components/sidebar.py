"""The rooms sidebar: who I am, the ``Join`` box and my rooms with unread badges."""

from __future__ import annotations

import reflex as rx

from blabber import routes
from blabber.components.common import brand, color_mode_toggle, error_text
from blabber.components.people_picker import people_picker
from blabber.components.room_directory import browse_rooms, create_room
from blabber.components.search import search_box
from blabber.services.conversations import DirectSummary
from blabber.services.views import RoomSummary
from blabber.state.auth import AuthState, log_out
from blabber.state.chat import ChatState
from blabber.state.sidebar import SidebarState

ASK_NOTIFICATIONS = (
    "if (window.Notification && Notification.permission === 'default') "
    "{ Notification.requestPermission(); }"
)


def _unread_badges(entry) -> rx.Component:
    """The mention badge (``@N``, any level) and the unread count (by my level).

    ``All messages``: a red count; ``Mentions only``: the count, muted;
    ``Nothing``: no count (mentions still show).
    """
    return rx.hstack(
        rx.cond(
            entry.mentions > 0,
            rx.badge(
                "@" + entry.mentions.to_string(),
                color_scheme="orange",
                high_contrast=True,
                variant="solid",
                radius="full",
                title=entry.mentions.to_string() + " mentions of you",
                data_testid="mention-badge",
            ),
        ),
        rx.cond(
            (entry.unread > 0) & (entry.level != "nothing"),
            rx.badge(
                entry.unread,
                color_scheme=rx.cond(entry.level == "all", "red", "gray"),
                # Step 12 text: the regular red is 4.4:1 on the badge, under 4.5:1.
                high_contrast=True,
                radius="full",
                data_testid="unread-badge",
            ),
        ),
        spacing="1",
        align="center",
    )


def _entry(label: rx.Component, entry, href, current, test_id: str) -> rx.Component:
    """A sidebar link: the label, then the badges; the open one is highlighted."""
    return rx.link(
        rx.hstack(
            label,
            rx.spacer(),
            _unread_badges(entry),
            align="center",
            width="100%",
            padding_x="0.6em",
            padding_y="0.35em",
            border_radius="6px",
            background=rx.cond(current, rx.color("accent", 4), "transparent"),
            font_weight=rx.cond(current, "bold", "normal"),
        ),
        href=href,
        underline="none",
        color=_entry_color(entry),
        # Reflex's link turns accent 8 on hover: 2.3:1 on the sidebar, under 4.5:1.
        _hover={"color": rx.color("gray", 12)},
        aria_current=rx.cond(current, "page", "false"),
        data_testid=test_id,
        data_level=entry.level,
        width="100%",
    )


def _entry_color(entry) -> rx.Var:
    """Gray 12; a room set to ``Nothing`` is shown muted (gray 11 still keeps 4.5:1)."""
    return rx.cond(entry.level == "nothing", rx.color("gray", 11), rx.color("gray", 12))


def _room_entry(room: rx.Var[RoomSummary]) -> rx.Component:
    label = rx.cond(
        room.private,
        rx.hstack(
            rx.icon("lock", size=12, role="img", aria_label="Private", flex_shrink="0"),
            rx.text(room.name, trim="both", truncate=True),
            align="center",
            spacing="1",
            min_width="0",
        ),
        rx.text("# ", room.name, trim="both", truncate=True),
    )
    return _entry(
        label,
        room,
        "/rooms/" + room.url_name,
        ChatState.room_name == room.url_name,
        "room-entry",
    )


def _direct_entry(direct: rx.Var[DirectSummary]) -> rx.Component:
    href = "/dm/" + direct.id.to_string()
    label = rx.hstack(
        rx.box(
            width="8px",
            height="8px",
            flex_shrink="0",
            border_radius="50%",
            background=rx.cond(direct.online, rx.color("grass", 9), rx.color("gray", 8)),
            role="img",
            aria_label=rx.cond(direct.online, "online", "offline"),
            data_testid="presence-dot",
            data_online=direct.online.to_string(),
        ),
        rx.text(direct.title, truncate=True, color=_entry_color(direct)),
        align="center",
        spacing="2",
        min_width="0",
    )
    return _entry(label, direct, href, ChatState.room_path == href, "direct-entry")


def _section(title: str) -> rx.Component:
    return rx.text(title, size="1", weight="bold", color_scheme="gray")


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
            rx.cond(
                SidebarState.site_admin,
                rx.link(
                    rx.icon("shield", size=16, aria_hidden="true"),
                    href=routes.ADMIN,
                    aria_label="Admin",
                    title="Admin",
                    flex_shrink="0",
                    color=rx.color("gray", 12),
                    _hover={"color": rx.color("gray", 12)},
                ),
            ),
            rx.link(
                rx.icon("settings", size=16, aria_hidden="true"),
                href=routes.SETTINGS,
                aria_label="Settings",
                title="Settings",
                flex_shrink="0",
                color=rx.color("gray", 12),
                _hover={"color": rx.color("gray", 12)},
            ),
            rx.button("Log out", on_click=log_out(), variant="soft", size="1"),
            width="100%",
            align="center",
        ),
        search_box(),
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
        rx.hstack(browse_rooms(), create_room(), width="100%", spacing="2"),
        _section("Rooms"),
        rx.cond(
            SidebarState.rooms.length() > 0,
            rx.vstack(rx.foreach(SidebarState.rooms, _room_entry), width="100%", spacing="1"),
            rx.text(
                "No rooms yet. Type a name above to create or join one.",
                size="2",
                color_scheme="gray",
            ),
        ),
        _section("Direct messages"),
        people_picker(),
        rx.cond(
            SidebarState.directs.length() > 0,
            rx.vstack(
                rx.foreach(SidebarState.directs, _direct_entry),
                width="100%",
                spacing="1",
                data_testid="direct-messages",
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
