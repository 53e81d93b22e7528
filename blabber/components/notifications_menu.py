"""The room header's ``Notifications`` menu: ``All messages``, ``Mentions only``, ``Nothing``."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx
from reflex_base.event import EventHandler, passthrough_event_spec
from reflex_base.vars.base import Var
from reflex_components_radix.themes.base import RadixThemesComponent

from blabber.components.phone_drawers import PHONE
from blabber.services.notification_levels import CHOICES
from blabber.state.notifications import NotificationsState

ICONS = {"all": "bell", "mentions": "at-sign", "nothing": "bell-off"}


class _RadioGroup(RadixThemesComponent):
    """Radix Themes' ``DropdownMenu.RadioGroup`` (Reflex wraps only plain items)."""

    tag = "DropdownMenu.RadioGroup"
    value: Var[str]
    on_value_change: EventHandler[passthrough_event_spec(str)]


class _RadioItem(RadixThemesComponent):
    """``DropdownMenu.RadioItem``: a ``menuitemradio`` with its check mark."""

    tag = "DropdownMenu.RadioItem"
    value: Var[str]
    _valid_parents: ClassVar[list[str]] = ["_RadioGroup"]


def _choice(level: str, label: str) -> rx.Component:
    return _RadioItem.create(
        rx.icon(ICONS[level], size=14, aria_hidden="true"),
        label,
        value=level,
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
                # On a phone the header is narrow: the bell alone, named by aria-label.
                rx.el.span("Notifications", style={PHONE: {"display": "none"}}),
                aria_label="Notifications",
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
        rx.dropdown_menu.content(
            _RadioGroup.create(
                *[_choice(level, label) for level, label in CHOICES.items()],
                value=NotificationsState.level,
                on_value_change=NotificationsState.set_level,
            )
        ),
        # Modal, Radix hides the rest of the page with aria-hidden while its
        # controls stay focusable (axe: aria-hidden-focus).
        modal=False,
    )
