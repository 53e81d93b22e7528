"""``Room settings`` in the room header, for its admin: name, topic, Private, Delete room."""

from __future__ import annotations

import reflex as rx

from blabber.components.common import error_text
from blabber.state.chat import ChatState
from blabber.state.room_settings import RoomSettingsState


def _delete_room() -> rx.Component:
    """``Delete room``, confirmed in place (a dialog inside the dialog loses track of focus)."""
    return rx.cond(
        RoomSettingsState.confirm_delete,
        rx.callout.root(
            rx.callout.text(
                "Delete ",
                rx.text.strong(ChatState.room_title),
                "? Its messages are removed for everyone and its members are told. "
                "This cannot be undone.",
            ),
            rx.hstack(
                rx.button(
                    "Keep the room",
                    type="button",
                    on_click=RoomSettingsState.ask_delete(False),
                    variant="soft",
                    color_scheme="gray",
                ),
                rx.button(
                    "Delete room for everyone",
                    type="button",
                    on_click=RoomSettingsState.delete_room,
                    color_scheme="red",
                    high_contrast=True,
                ),
                justify="end",
                width="100%",
            ),
            color_scheme="red",
            role="alert",
            width="100%",
            data_testid="delete-room-confirmation",
        ),
        rx.button(
            "Delete room",
            type="button",
            on_click=RoomSettingsState.ask_delete(True),
            color_scheme="red",
            variant="soft",
            high_contrast=True,
        ),
    )


def room_settings_dialog() -> rx.Component:
    """The gear button ``Room settings`` and its dialog (shown to the room's admin)."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.icon_button(
                rx.icon("settings-2", size=16),
                aria_label="Room settings",
                title="Room settings",
                variant="ghost",
                color_scheme="gray",
                size="2",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Room settings"),
            rx.dialog.description(
                "Members see each change at once.", size="2", color_scheme="gray"
            ),
            rx.form(
                rx.vstack(
                    rx.el.label("Name", html_for="room-settings-name", class_name="rt-Text"),
                    rx.input(
                        id="room-settings-name",
                        name="name",
                        aria_label="Name",
                        default_value=ChatState.room_title,
                        max_length=40,
                        required=True,
                        width="100%",
                    ),
                    rx.el.label("Topic", html_for="room-settings-topic", class_name="rt-Text"),
                    rx.input(
                        id="room-settings-topic",
                        name="topic",
                        aria_label="Topic",
                        default_value=ChatState.room_topic,
                        placeholder="What the room is about",
                        max_length=250,
                        width="100%",
                    ),
                    rx.el.label(
                        rx.hstack(
                            rx.switch(
                                name="private",
                                default_checked=ChatState.room_private,
                                aria_label="Private",
                            ),
                            rx.text("Private: not in Browse rooms, not joinable by name", size="2"),
                            align="center",
                            spacing="2",
                        ),
                    ),
                    error_text(RoomSettingsState.settings_error, "settings-error"),
                    rx.hstack(
                        rx.cond(~RoomSettingsState.confirm_delete, _delete_room()),
                        rx.spacer(),
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button("Save", type="submit", loading=RoomSettingsState.saving_settings),
                        width="100%",
                        align="center",
                    ),
                    rx.cond(RoomSettingsState.confirm_delete, _delete_room()),
                    spacing="2",
                    width="100%",
                    margin_top="0.75em",
                ),
                on_submit=RoomSettingsState.save_room_settings,
                reset_on_submit=False,
            ),
            max_width="460px",
        ),
        open=RoomSettingsState.settings_open,
        on_open_change=RoomSettingsState.show_settings,
    )
