"""The chat shell: sidebar, main area and members panel, with the app's banners."""

from __future__ import annotations

import reflex as rx

from blabber.components.common import AMBER_NOTICE, reconnecting_banner
from blabber.components.members import members_panel
from blabber.components.phone_drawers import PHONE
from blabber.components.search import search_panel
from blabber.components.sidebar import sidebar
from blabber.state.feed import FeedState
from blabber.state.profile import remember_time_zone_script
from blabber.state.sidebar import SidebarState


def notice_banner() -> rx.Component:
    """A dismissible notice (e.g. ``You were removed from <room>``)."""
    return rx.cond(
        SidebarState.notice != "",
        rx.callout(
            rx.hstack(
                rx.text(SidebarState.notice, data_testid="notice"),
                rx.spacer(),
                rx.button(
                    "Dismiss",
                    on_click=SidebarState.dismiss_notice,
                    size="1",
                    variant="ghost",
                    high_contrast=True,  # amber text inside the notice, like it
                ),
                width="100%",
            ),
            **AMBER_NOTICE,
            margin="1em",
        ),
    )


def degraded_banner() -> rx.Component:
    """Shown while this worker has lost its live-delivery broker (e.g. Redis is down)."""
    return rx.cond(
        FeedState.degraded,
        rx.callout(
            "Live updates are interrupted; reconnecting… Messages you send are still "
            "saved and will appear when the connection is back.",
            **AMBER_NOTICE,
            role="status",
            margin="1em",
            data_testid="degraded-banner",
        ),
    )


def empty_room_placeholder() -> rx.Component:
    """What the main area shows when no room is open."""
    return rx.center(
        rx.vstack(
            rx.heading("Welcome to Blabber", size="6"),
            rx.text(
                "Pick a room on the left, or type a room name and press Join.", color_scheme="gray"
            ),
            align="center",
        ),
        height="100%",
        padding="2em",
    )


def shell(main: rx.Component, with_members: bool) -> rx.Component:
    """Three columns on a desktop, stacked on a tablet.

    A room page on a phone shows the room alone, filling the screen (the
    composer stays above the on-screen keyboard: the height is the dynamic
    viewport's); its header opens the sidebar and the Members panel as
    drawers (``phone_drawers``).
    """
    phone_hidden = {PHONE: {"display": "none"}} if with_members else {}
    return rx.flex(
        rx.box(
            sidebar(),
            style=phone_hidden,
            width=["100%", "100%", "260px"],
            flex_shrink="0",
            border_right=f"1px solid {rx.color('gray', 5)}",
            background=rx.color("gray", 2),
            max_height=["40dvh", "40dvh", "100dvh"],
            overflow_y="auto",
        ),
        rx.vstack(
            # Once per page load: the browser's time zone, for the local time on my card.
            rx.box(on_mount=remember_time_zone_script(), display="none"),
            search_panel(),  # here, once: the sidebar is also drawn in the phone drawer
            reconnecting_banner(),
            degraded_banner(),
            notice_banner(),
            main,
            flex="1",
            min_width="0",
            spacing="0",
            # auto while stacked (tablet), the screen's height as a column;
            # a room page on a phone is the room alone, filling the screen.
            style={
                "height": "auto",
                "@media screen and (min-width: 48em)": {"height": "100dvh"},
                **({PHONE: {"height": "100dvh"}} if with_members else {}),
            },
        ),
        rx.cond(
            with_members,
            rx.box(
                members_panel(),
                width=["100%", "100%", "240px"],
                flex_shrink="0",
                border_left=f"1px solid {rx.color('gray', 5)}",
                overflow_y="auto",
                max_height=["none", "none", "100dvh"],
                style=phone_hidden,
            ),
        ),
        direction=rx.breakpoints(initial="column", md="row"),
        min_height="100dvh",
        width="100%",
    )
