"""On a phone (width <= 640 px) the room fills the screen; ``Rooms`` and ``Members`` open drawers.

The desktop columns (``shell``) are hidden there by :data:`PHONE` rules, and
the room header shows these two buttons instead. Each drawer is keyed by
the open room, so following a room link inside it (the page stays, the
room changes) also closes it.
"""

from __future__ import annotations

import reflex as rx

from blabber.components.members import members_panel
from blabber.components.sidebar import sidebar
from blabber.state.chat import ChatState

PHONE = "@media (max-width: 640px)"
# Only on a phone: the header's drawer buttons.
PHONE_ONLY = {"display": "none", PHONE: {"display": "flex"}}


def _drawer(label: str, icon: str, side: str, body: rx.Component) -> rx.Component:
    return rx.drawer.root(
        rx.drawer.trigger(
            rx.icon_button(
                rx.icon(icon, size=16), aria_label=label, title=label, variant="soft", size="2"
            )
        ),
        rx.drawer.portal(
            rx.drawer.overlay(),
            rx.drawer.content(
                rx.vstack(
                    rx.hstack(
                        rx.drawer.title(label, size="3"),
                        rx.spacer(),
                        rx.drawer.close(
                            rx.icon_button(
                                rx.icon("x", size=16),
                                aria_label=f"Close {label}",
                                variant="ghost",
                                size="2",
                            )
                        ),
                        width="100%",
                        align="center",
                    ),
                    body,
                    width="100%",
                    height="100%",
                    overflow_y="auto",
                    padding="0.5em",
                ),
                top="0",
                bottom="0",
                width="85vw",
                max_width="320px",
                height="100dvh",
                background=rx.color("gray", 1),
                # vaul stretches the background past the edge with an ::after
                # while dragging; axe-core cannot read text colours over it.
                style={"&::after": {"display": "none !important"}},
                **({"right": "auto"} if side == "left" else {"left": "auto"}),
            ),
        ),
        direction=side,
        key=ChatState.room_name,
    )


def phone_drawer_buttons() -> rx.Component:
    """``Rooms`` (the sidebar) and ``Members`` (the Members panel), for the room header."""
    return rx.hstack(
        _drawer("Rooms", "menu", "left", sidebar()),
        _drawer("Members", "users", "right", members_panel()),
        spacing="2",
        style=PHONE_ONLY,
    )
