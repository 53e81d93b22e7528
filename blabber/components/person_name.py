"""A person's name that opens their profile card (``Message <username>`` included).

The card shows their avatar (initials in their colour), display name and
``@username``, status, ``About``, whether they are online and their local
time. Its content mounts only while open, so a long list pays for a
trigger per row, not a card; one card's data is loaded at a time
(``ProfileState.show_card``).
"""

from __future__ import annotations

import reflex as rx

from blabber.state.auth import AuthState
from blabber.state.people import PeopleState
from blabber.state.profile import ProfileState


def _card(username: rx.Var[str]) -> rx.Component:
    card = ProfileState.card
    return rx.vstack(
        rx.hstack(
            rx.avatar(
                src=card.avatar,  # the profile picture; initials while none (or loading)
                fallback=card.initials,
                color_scheme=card.color,
                # Soft with step-12 initials: every avatar colour reads above 4.5:1.
                variant="soft",
                high_contrast=True,
                radius="full",
                size="4",
                aria_hidden="true",
            ),
            rx.vstack(
                rx.text(
                    rx.cond(card.display_name != "", card.display_name, username),
                    weight="bold",
                    data_testid="card-name",
                ),
                rx.text("@", username, size="1", color_scheme="gray"),
                rx.text(
                    rx.cond(card.online, "online", "offline"),
                    rx.cond(card.local_time != "", " · " + card.local_time + " local time", ""),
                    size="1",
                    color_scheme="gray",
                    data_testid="card-presence",
                ),
                spacing="0",
            ),
            align="center",
            spacing="3",
        ),
        rx.cond(card.status != "", rx.text(card.status, size="2", data_testid="card-status")),
        rx.cond(
            card.about != "",
            rx.text(card.about, size="2", color_scheme="gray", data_testid="card-about"),
        ),
        rx.cond(ProfileState.card_error != "", rx.text(ProfileState.card_error, size="2")),
        rx.cond(
            username != AuthState.username,
            rx.popover.close(
                rx.button(
                    rx.icon("message-square", size=14, aria_hidden="true"),
                    "Message " + username,
                    on_click=PeopleState.message_user(username),
                    size="1",
                )
            ),
        ),
        spacing="2",
        max_width="18em",
        data_testid="profile-card",
    )


def person_name(
    username: rx.Var[str],
    shown: rx.Var[str] | str = "",
    *,
    size: str = "2",
    bold: bool = True,
    test_id: str = "message-author",
) -> rx.Component:
    """``shown`` (a display name) or the username, as a button that opens the card."""
    # Truthiness, not ``!= ""``: a row leaves ``author_display`` out while unset.
    label = rx.cond(shown, shown, username) if isinstance(shown, rx.Var) else username
    return rx.popover.root(
        rx.popover.trigger(
            rx.el.button(
                rx.text(
                    label, weight="bold" if bold else "regular", size=size, data_testid=test_id
                ),
                type="button",
                title="Profile of " + username,
                style={"all": "unset", "cursor": "pointer", "min_width": "0"},
                _hover={"text_decoration": "underline"},
                _focus_visible={"outline": f"2px solid {rx.color('accent', 8)}"},
            ),
        ),
        rx.popover.content(_card(username), size="1", aria_label="Profile of " + username),
        on_open_change=lambda open_: ProfileState.show_card(username, open_),
    )
