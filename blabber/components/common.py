"""Stateless building blocks shared by every page."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

# The app's global style (rx.App(style=...)). Radix lightens a solid button on
# hover (accent step 10): in dark mode white text on indigo 10 is 4.3:1, under
# WCAG's 4.5:1, so there the hover darkens step 9 instead. High-contrast solid
# buttons (dark text) keep Radix's own hover.
APP_STYLE = {
    rx.button: {
        ".dark &.rt-variant-solid:not(.rt-high-contrast):hover": {
            "background_color": "color-mix(in oklab, var(--accent-9), black 15%)",
        },
    },
}

# Amber notices are high contrast (amber step 12 text): Radix's regular amber
# text on an amber callout is 4.2:1 in light mode, under WCAG's 4.5:1.
AMBER_NOTICE = {"color_scheme": "amber", "high_contrast": True}


def color_mode_toggle() -> rx.Component:
    """Light/dark switch (Reflex color mode, remembered by the browser)."""
    return rx.color_mode.button(aria_label="Toggle dark mode", size="2", variant="ghost")


def error_text(message: rx.Var[str], test_id: str) -> rx.Component:
    """A red, screen-reader-announced error line, hidden when empty."""
    return rx.cond(
        message != "",
        rx.callout(message, color_scheme="red", role="alert", size="1", data_testid=test_id),
    )


def brand() -> rx.Component:
    """The Blabber wordmark."""
    return rx.hstack(
        rx.icon("message-circle", size=22),
        rx.heading("Blabber", size="5"),
        align="center",
        spacing="2",
    )


def reconnecting_banner() -> rx.Component:
    """Shown while the websocket is down; the page catches up when it returns.

    On reconnect Reflex re-runs the page's on_load, which reloads the room's
    latest messages and re-registers the tab with its (possibly new) worker.
    """
    return rx.cond(
        has_connection_errors,
        rx.callout(
            "Reconnecting…",
            icon="wifi-off",
            **AMBER_NOTICE,
            role="status",
            size="1",
            margin="0.5em 1em 0",
            data_testid="reconnecting",
        ),
    )
