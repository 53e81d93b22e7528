"""The ``/settings`` page: ``Change password``, ``Log out everywhere``, ``Delete account``."""

from __future__ import annotations

import reflex as rx

from blabber.components.common import error_text
from blabber.components.profile_picture import profile_picture
from blabber.state.account import AccountState
from blabber.state.auth import AuthState
from blabber.state.profile import PROFILE_FIELD_IDS, ProfileState


def _password_input(label: str, name: str, autocomplete: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=name, font_size="0.9em"),
        rx.input(
            id=name,
            name=name,
            type="password",
            placeholder=label,
            auto_complete=autocomplete,
            max_length=200,
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def _change_password() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Change password", size="3", as_="h2"),
            _password_input("Current password", "current_password", "current-password"),
            _password_input("New password", "new_password", "new-password"),
            _password_input("Confirm new password", "confirm_password", "new-password"),
            error_text(AccountState.password_error, "password-error"),
            rx.cond(
                AccountState.password_done != "",
                rx.callout(
                    AccountState.password_done,
                    color_scheme="green",
                    role="status",
                    size="1",
                    data_testid="password-done",
                ),
            ),
            rx.text(
                "Your other sessions are logged out; this one stays.",
                size="1",
                color_scheme="gray",
            ),
            rx.button("Change password", type="submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=AccountState.change_password,
        reset_on_submit=False,
        width="100%",
    )


def _delete_account() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button("Delete account", color_scheme="red", variant="soft", high_contrast=True)
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete your account?"),
            rx.alert_dialog.description(
                "You are logged out everywhere and leave your rooms. Your messages stay, shown "
                "as from Deleted user. Your name stays taken, so nobody can pass for you in "
                "old messages. This cannot be undone."
            ),
            rx.form(
                rx.vstack(
                    _password_input("Password", "delete_password", "current-password"),
                    error_text(AccountState.account_error, "account-error"),
                    rx.hstack(
                        rx.alert_dialog.cancel(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button(
                            "Delete account", color_scheme="red", high_contrast=True, type="submit"
                        ),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    margin_top="1em",
                ),
                on_submit=AccountState.delete_account,
                reset_on_submit=False,
            ),
        ),
    )


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(
        rx.vstack(rx.text(label, size="2", weight="bold"), control, spacing="1", width="100%"),
        width="100%",
    )


def _profile() -> rx.Component:
    """``Profile``: display name, About, status and when it clears."""
    return rx.form(
        rx.vstack(
            rx.heading("Profile", size="3", as_="h2"),
            _field(
                "Display name",
                rx.input(
                    id=PROFILE_FIELD_IDS["display_name"],
                    name="display_name",
                    default_value=ProfileState.my_display_name,
                    placeholder=AuthState.username,
                    max_length=50,
                    width="100%",
                ),
            ),
            _field(
                "About",
                rx.text_area(
                    id=PROFILE_FIELD_IDS["about"],
                    name="about",
                    default_value=ProfileState.my_about,
                    placeholder="What you do, what to ask you about",
                    max_length=300,
                    width="100%",
                ),
            ),
            _field(
                "Status",
                rx.input(
                    id=PROFILE_FIELD_IDS["status"],
                    name="status",
                    default_value=ProfileState.my_status,
                    placeholder="In a meeting, On holiday until Friday…",
                    max_length=80,
                    width="100%",
                ),
            ),
            _field(
                "Clear status after",
                rx.select.root(
                    rx.select.trigger(aria_label="Clear status after"),
                    rx.select.content(
                        *[
                            rx.select.item(label, value=value)
                            for value, label in (
                                ("never", "Don't clear"),
                                ("1h", "1 hour"),
                                ("4h", "4 hours"),
                                ("1d", "1 day"),
                                ("1w", "1 week"),
                            )
                        ]
                    ),
                    name="clear_after",
                    default_value="never",
                ),
            ),
            error_text(ProfileState.profile_error, "profile-error"),
            rx.cond(
                ProfileState.profile_done != "",
                rx.text(
                    ProfileState.profile_done, size="2", role="status", data_testid="profile-done"
                ),
            ),
            rx.button("Save profile", type="submit", loading=~ProfileState.profile_ready),
            spacing="3",
            width="100%",
        ),
        on_submit=ProfileState.save_profile,
        reset_on_submit=False,
        width="100%",
    )


def account_settings() -> rx.Component:
    """The page's four sections."""
    return rx.box(
        rx.vstack(
            rx.heading("Settings", size="6", as_="h1"),
            profile_picture(),
            rx.divider(),
            _profile(),
            rx.divider(),
            _change_password(),
            rx.divider(),
            rx.heading("Sessions", size="3", as_="h2"),
            rx.text(
                "Log out of Blabber on every browser and device, this one too.",
                size="2",
                color_scheme="gray",
            ),
            rx.button(
                "Log out everywhere",
                on_click=AccountState.log_out_everywhere,
                variant="soft",
                color_scheme="gray",
            ),
            error_text(AccountState.account_error, "sessions-error"),
            rx.divider(),
            rx.heading("Delete account", size="3", as_="h2"),
            _delete_account(),
            spacing="4",
            max_width="28em",
            width="100%",
        ),
        padding="2em",
        overflow_y="auto",
        height="100%",
        width="100%",
    )
