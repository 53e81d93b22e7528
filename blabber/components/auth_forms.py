"""The log-in and sign-up cards (posted by ``assets/session.js``, not through Reflex state)."""

from __future__ import annotations

import reflex as rx

from blabber import routes
from blabber.components.common import brand, color_mode_toggle

FORM_ID = "credentials-form"
WAIT_FOR_SESSION_SCRIPT = (
    "(function post(tries) {"
    " if (window.blabberSession) {"
    f" blabberSession.submit(document.getElementById('{FORM_ID}')); return; }}"
    " if (tries < 200) setTimeout(() => post(tries + 1), 25);"
    " })(0)"
)


def _credentials_form(button: str, endpoint: str, autocomplete_password: str) -> rx.Component:
    """A username/password form that ``assets/session.js`` posts to ``endpoint``.

    A plain ``<form>`` with no Reflex handler: the password goes to the
    session endpoint over HTTP, never into Reflex state, and the error line
    and the button's busy state are the script's (see its header).
    """
    return rx.el.form(
        rx.vstack(
            rx.input(
                placeholder="Username",
                name="username",
                aria_label="Username",
                auto_complete="username",
                required=True,
                max_length=64,
                width="100%",
                size="3",
            ),
            rx.input(
                placeholder="Password",
                name="password",
                type="password",
                aria_label="Password",
                auto_complete=autocomplete_password,
                required=True,
                max_length=200,
                width="100%",
                size="3",
            ),
            rx.el.p(
                role="alert",
                data_session_error="",
                data_testid="form-error",
                width="100%",
                margin="0",
                padding="0.5em 0.75em",
                border_radius="var(--radius-2)",
                color="var(--red-11)",
                background_color="var(--red-a3)",
                font_size="var(--font-size-2)",
                style={"&:empty": {"display": "none"}},
            ),
            rx.button(button, type="submit", width="100%", size="3"),
            spacing="3",
            width="100%",
        ),
        # Runs only while assets/session.js is not loaded yet (its capture
        # listener otherwise takes the submit first): wait for it, then post.
        on_submit=rx.call_script(WAIT_FOR_SESSION_SCRIPT),
        id=FORM_ID,
        data_session_endpoint=endpoint,
        data_session_next=routes.HOME,
        method="post",
        action=endpoint,
        width="100%",
    )


def auth_card(title: str, form: rx.Component, footer: rx.Component) -> rx.Component:
    """A centred card that fits a phone screen."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(brand(), rx.spacer(), color_mode_toggle(), width="100%"),
                rx.heading(title, size="6"),
                form,
                footer,
                spacing="4",
                width="100%",
            ),
            width="100%",
            max_width="400px",
            size="3",
            # The card's own background instead of the one Radix paints in a
            # ::before pseudo-element, which axe-core cannot see: it then could
            # not check the contrast of anything on these pages. The same colour on
            # this plain page; the frame (::after) stays.
            background_color="var(--color-panel-solid)",
            _before={"display": "none"},
        ),
        min_height="100dvh",
        padding="1em",
    )


def _inline_link(text: str, href: str) -> rx.Component:
    """A link inside a sentence: underlined, as its colour alone is too close to the text's."""
    return rx.link(text, href=href, underline="always")


def login_card() -> rx.Component:
    """``/login``."""
    return auth_card(
        "Log in",
        _credentials_form("Log in", routes.SESSION_LOGIN, "current-password"),
        rx.text("New here? ", _inline_link("Sign up", routes.SIGNUP), size="2"),
    )


def signup_card() -> rx.Component:
    """``/signup``."""
    return auth_card(
        "Create your account",
        _credentials_form("Sign up", routes.SESSION_SIGNUP, "new-password"),
        rx.vstack(
            rx.text(
                "3–32 letters, digits, _ . or - for the username; at least 8 characters "
                "(at most 72 bytes) for the password.",
                size="1",
                color_scheme="gray",
            ),
            rx.text("Have an account? ", _inline_link("Log in", routes.LOGIN), size="2"),
            spacing="2",
        ),
    )
