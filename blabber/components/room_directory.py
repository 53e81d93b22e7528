"""``Browse rooms`` and ``Create room``, the two buttons under the sidebar's join box.

``Browse rooms`` lists the public rooms (``Filter rooms``), each with ``Join``
or ``Open``; ``Create room`` asks a name, an optional topic and ``Private``.
"""

from __future__ import annotations

import reflex as rx

from blabber.components.common import error_text
from blabber.services.room_directory import ListedRoom
from blabber.state.room_directory import DirectoryState


def _listed_room(room: rx.Var[ListedRoom]) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text("# ", room.name, weight="bold", size="2", truncate=True),
            rx.cond(
                room.topic != "",
                rx.text(room.topic, size="1", color_scheme="gray", truncate=True),
            ),
            rx.text(
                room.members.to_string(),
                rx.cond(room.members == 1, " member · ", " members · "),
                room.active,
                size="1",
                color_scheme="gray",
            ),
            spacing="0",
            min_width="0",
            flex="1",
        ),
        rx.button(
            rx.cond(room.joined, "Open", "Join"),
            on_click=DirectoryState.join_listed(room.id),
            aria_label=rx.cond(room.joined, "Open ", "Join ") + room.name,
            variant=rx.cond(room.joined, "soft", "solid"),
            size="1",
        ),
        align="center",
        width="100%",
        padding_y="0.4em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_testid="listed-room",
    )


def _directory_rows() -> rx.Component:
    return rx.cond(
        DirectoryState.directory_loading,
        rx.hstack(rx.spinner(size="2"), rx.text("Loading rooms…", size="2"), align="center"),
        rx.cond(
            DirectoryState.listed.length() > 0,
            rx.scroll_area(
                rx.vstack(rx.foreach(DirectoryState.listed, _listed_room), spacing="0"),
                max_height="50vh",
                type="auto",
                scrollbars="vertical",
            ),
            rx.text(
                rx.cond(
                    DirectoryState.directory_query != "",
                    "No public rooms match",
                    "No public rooms yet. Create one!",
                ),
                size="2",
                color_scheme="gray",
                data_testid="directory-empty",
            ),
        ),
    )


def browse_rooms() -> rx.Component:
    """The ``Browse rooms`` button and its dialog."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("compass", size=14, aria_hidden="true"),
                "Browse rooms",
                variant="soft",
                size="1",
                flex="1",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Browse rooms"),
            rx.dialog.description(
                "Public rooms anyone here can join.", size="2", color_scheme="gray"
            ),
            rx.vstack(
                rx.input(
                    placeholder="Filter rooms",
                    aria_label="Filter rooms",
                    value=DirectoryState.directory_query,
                    on_change=DirectoryState.filter_directory.debounce(200),
                    auto_focus=True,
                    max_length=40,
                    width="100%",
                ),
                _directory_rows(),
                error_text(DirectoryState.directory_error, "directory-error"),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                margin_top="0.75em",
            ),
            max_width="480px",
        ),
        open=DirectoryState.directory_open,
        on_open_change=DirectoryState.show_directory,
    )


def create_room() -> rx.Component:
    """The ``Create room`` button and its dialog."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("plus", size=14, aria_hidden="true"),
                "Create room",
                variant="soft",
                size="1",
                flex="1",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Create room"),
            rx.dialog.description("You will be its admin.", size="2", color_scheme="gray"),
            rx.form(
                rx.vstack(
                    rx.input(
                        name="name",
                        placeholder="Name, e.g. design",
                        aria_label="Name",
                        max_length=40,
                        auto_focus=True,
                        required=True,
                        width="100%",
                    ),
                    rx.input(
                        name="topic",
                        placeholder="Topic (optional)",
                        aria_label="Topic",
                        max_length=250,
                        width="100%",
                    ),
                    rx.el.label(
                        rx.hstack(
                            rx.switch(name="private", aria_label="Private"),
                            rx.vstack(
                                rx.text("Private", size="2", weight="bold"),
                                rx.text(
                                    "Not listed in Browse rooms; only people its members "
                                    "add can join.",
                                    size="1",
                                    color_scheme="gray",
                                ),
                                spacing="0",
                            ),
                            align="start",
                            spacing="2",
                        ),
                    ),
                    error_text(DirectoryState.create_error, "create-error"),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button("Create", type="submit", loading=DirectoryState.creating),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                    margin_top="0.75em",
                ),
                on_submit=DirectoryState.create_room,
                reset_on_submit=False,
            ),
            max_width="420px",
        ),
        open=DirectoryState.create_open,
        on_open_change=DirectoryState.show_create,
    )
