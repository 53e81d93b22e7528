"""The room header's ``Notifications`` menu: ``All messages``, ``Mentions only``, ``Nothing``."""

from __future__ import annotations

import reflex as rx

from blabber.services.notification_levels import CHOICES
from blabber.state.notifications import NotificationsState

ICONS = {"all": "bell", "mentions": "at-sign", "nothing": "bell-off"}


def _choice(level: str, label: str) -> rx.Component:
    chosen = NotificationsState.level == level
    return rx.dropdown_menu.item(
        rx.hstack(
            rx.icon(ICONS[level], size=14, aria_hidden="true"),
            rx.text(label),
            rx.spacer(),
            rx.cond(chosen, rx.icon("check", size=14, aria_hidden="true")),
            width="100%",
            align="center",
        ),
        on_select=NotificationsState.set_level(level),
        role="menuitemradio",
        aria_checked=rx.cond(chosen, "true", "false"),
        data_testid=f"level-{level}",
    )


def notifications_menu() -> rx.Component:
    """A bell button naming the level now; choosing another stores it for all my devices."""
    icon = rx.match(
        NotificationsState.level,
        ("mentions", rx.icon(ICONS["mentions"], size=14, aria_hidden="true")),
        ("nothing", rx.icon(ICONS["nothing"], size=14, aria_hidden="true")),
        rx.icon(ICONS["all"], size=14, aria_hidden="true"),
    )
    return rx.dropdown_menu.root(
        rx.dropdown_menu.trigger(
            rx.button(
                icon,
                "Notifications",
                variant="soft",
                color_scheme="gray",
                size="1",
                title=rx.match(
                    NotificationsState.level,
                    *[(level, f"Notifications: {label}") for level, label in CHOICES.items()],
                    "Notifications",
                ),
                data_level=NotificationsState.level,
            )
        ),
        rx.dropdown_menu.content(*[_choice(level, label) for level, label in CHOICES.items()]),
    )
