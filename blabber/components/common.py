"""Stateless building blocks shared by every page."""

from __future__ import annotations

import reflex as rx
from reflex_base.vars.base import Var, VarData
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


def icon_action_button(icon: str, label: str, **props) -> rx.Component:
    """A small icon button named ``label`` (its accessible name and tooltip)."""
    return rx.icon_button(
        rx.icon(icon, size=14), aria_label=label, title=label, variant="ghost", size="1", **props
    )


def add_key_handlers(box: rx.Component, keys: list[tuple[str, object]]) -> None:
    """Give an Enter-to-submit text area more keys: ``(JS condition on e, event)``, in order.

    Reflex allows one key handler per input, and ``enter_key_submit`` takes
    it; this replaces it with one that tries ``keys`` first and then does
    what Enter-to-submit did.
    """
    chains = [Var.create(rx.EventChain.create([event], args_spec=_the_event)) for _, event in keys]
    code = "enterKeySubmitOnKeyDown(e, true)"
    for (condition, _), chain in reversed(list(zip(keys, chains, strict=True))):
        code = f"(({condition}) ? (e.preventDefault(), ({chain!s})(e)) : {code})"
    box.custom_attrs["on_key_down"] = Var(
        _js_expr=f"(e) => {code}",
        _var_data=VarData.merge(*(c._get_all_var_data() for c in chains)),
    )


def _the_event(event: rx.Var) -> list[rx.Var]:
    return [event]
