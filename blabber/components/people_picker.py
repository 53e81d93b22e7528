"""``New message``: a dialog to find people (``Find people``) and open a conversation.

Matches are a listbox of options; picking one adds it to the chips above
the input (each with ``Remove <name>``), and ``Open conversation`` goes to
the conversation of exactly the picked people. Enter in the input picks
the first match; with nothing typed and people picked, it opens.
"""

from __future__ import annotations

import reflex as rx

from blabber.components.common import error_text, icon_action_button
from blabber.state.people import PeopleState


def _match(name: rx.Var[str]) -> rx.Component:
    """A match: the option itself is clicked (a button inside an option nests controls)."""
    return rx.el.li(
        rx.hstack(
            rx.icon("user", size=14, aria_hidden="true"),
            rx.text(name, size="2"),
            align="center",
            spacing="2",
        ),
        on_click=PeopleState.pick(name),
        role="option",
        aria_selected="false",
        key=name,
        list_style="none",
        cursor="pointer",
        padding="0.4em 0.6em",
        border_radius="6px",
        _hover={"background": rx.color("accent", 4)},
        data_testid="people-option",
    )


def _chip(name: rx.Var[str]) -> rx.Component:
    return rx.badge(
        name,
        icon_action_button("x", "Remove " + name, on_click=PeopleState.unpick(name)),
        key=name,
        size="2",
        variant="soft",
        data_testid="picked-person",
    )


def _find_people_input() -> rx.Component:
    box = rx.input(
        placeholder="Find people",
        aria_label="Find people",
        value=PeopleState.query,
        on_change=PeopleState.search_people.debounce(150),
        auto_focus=True,
        max_length=32,
        width="100%",
        aria_controls="people-matches",
        role="combobox",
        aria_expanded=PeopleState.matches.length() > 0,
    )
    return box


def _picker(description: str, action: rx.Component) -> rx.Component:
    """Chips, ``Find people``, its matches, the error, then ``Cancel`` and ``action``."""
    return rx.vstack(
        rx.dialog.description(description, size="2", color_scheme="gray"),
        rx.cond(
            PeopleState.picked.length() > 0,
            rx.flex(rx.foreach(PeopleState.picked, _chip), wrap="wrap", gap="2"),
        ),
        rx.form(
            _find_people_input(),
            on_submit=PeopleState.enter_in_search,
            reset_on_submit=False,
            width="100%",
        ),
        rx.cond(
            PeopleState.matches.length() > 0,
            rx.el.ul(
                rx.foreach(PeopleState.matches, _match),
                id="people-matches",
                role="listbox",
                aria_label="People",
                padding="0",
                margin="0",
                width="100%",
            ),
            rx.cond(
                PeopleState.query != "",
                rx.text("Nobody by that name", size="2", color_scheme="gray"),
            ),
        ),
        error_text(PeopleState.people_error, "people-error"),
        rx.hstack(
            rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
            action,
            justify="end",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def people_picker() -> rx.Component:
    """The ``New message`` button and its dialog."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("square-pen", size=14, aria_hidden="true"),
                "New message",
                variant="soft",
                size="1",
                width="100%",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("New message"),
            _picker(
                "Pick one person, or several for a group (up to 8).",
                rx.button(
                    "Open conversation",
                    on_click=PeopleState.open_picked,
                    loading=PeopleState.opening,
                    disabled=PeopleState.picked.length() == 0,
                ),
            ),
            max_width="420px",
        ),
        on_open_change=PeopleState.reset_picker,
    )


def add_people_dialog() -> rx.Component:
    """``Add people`` (Members panel): pick people, ``Add`` makes them members of this room.

    Picking only fills the list; in ``Add people`` Enter with nothing typed
    does not add (it would open a conversation): the ``Add`` button does.
    """
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("user-plus", size=14, aria_hidden="true"),
                "Add people",
                variant="soft",
                size="1",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Add people"),
            _picker(
                "They become members and can read the whole history.",
                rx.button(
                    "Add",
                    on_click=PeopleState.add_picked,
                    loading=PeopleState.opening,
                    disabled=PeopleState.picked.length() == 0,
                ),
            ),
            max_width="420px",
        ),
        open=PeopleState.adding_open,
        on_open_change=PeopleState.show_adding,
    )
