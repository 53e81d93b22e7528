"""A message author's name: for someone else, a button offering ``Message <username>``."""

from __future__ import annotations

import reflex as rx

from blabber.state.auth import AuthState
from blabber.state.people import PeopleState


def person_name(username: rx.Var[str]) -> rx.Component:
    """The name, bold; someone else's opens a small card with ``Message <username>``.

    The card's content mounts only while open, so a long list pays for a
    trigger per row, not a card.
    """
    name = rx.text(username, weight="bold", size="2", data_testid="message-author")
    return rx.cond(
        username == AuthState.username,
        name,
        rx.popover.root(
            rx.popover.trigger(
                rx.el.button(
                    name,
                    type="button",
                    title="About " + username,
                    style={"all": "unset", "cursor": "pointer"},
                    _hover={"text_decoration": "underline"},
                    _focus_visible={"outline": f"2px solid {rx.color('accent', 8)}"},
                ),
            ),
            rx.popover.content(
                rx.vstack(
                    rx.text(username, weight="bold"),
                    rx.popover.close(
                        rx.button(
                            rx.icon("message-square", size=14, aria_hidden="true"),
                            "Message " + username,
                            on_click=PeopleState.message_user(username),
                            size="1",
                        )
                    ),
                    spacing="2",
                ),
                size="1",
            ),
        ),
    )
