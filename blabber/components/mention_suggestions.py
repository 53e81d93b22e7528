"""The list of people offered after ``@`` in the composer (driven by ``assets/mentions.js``).

Reflex renders the options the server found; the script owns the rest of
the combobox pattern: which option is active (``aria-selected`` here and
``aria-activedescendant`` on the composer), the keys (Up/Down move,
Enter/Tab insert, Escape closes) and inserting ``@username`` at the caret.
"""

from __future__ import annotations

import reflex as rx
from reflex_base.utils.format import format_queue_events

from blabber.state.mention_suggestions import MentionSuggestionsState

LIST_ID = "mention-list"


def connect_script() -> rx.event.EventSpec:
    """Hand ``assets/mentions.js`` the function that sends a prefix to the server.

    Run from the composer's focus: a call_script is evaluated where Reflex's
    ``addEvents`` is in scope, which the callback Reflex formats here uses.
    """
    send = format_queue_events(
        MentionSuggestionsState.suggest_mentions, args_spec=lambda prefix: [prefix]
    )
    # The callback's source text: an f-string of the Var itself would splice
    # it into the page's code instead of into the script's string.
    code = send._js_expr
    return rx.call_script(f"window.blabberMentions && window.blabberMentions.connect({code})")


def _option(name: rx.Var[str], index: rx.Var[int]) -> rx.Component:
    return rx.el.div(
        "@" + name,
        role="option",
        id="mention-option-" + index.to_string(),
        data_username=name,
        class_name="mention-option",
    )


def mention_suggestions() -> rx.Component:
    """The listbox above the composer, shown while there are names to offer."""
    return rx.cond(
        MentionSuggestionsState.mention_options.length() > 0,
        rx.el.div(
            rx.foreach(MentionSuggestionsState.mention_options, _option),
            role="listbox",
            id=LIST_ID,
            aria_label="People to mention",
            data_testid="mention-list",
            class_name="mention-list",
        ),
    )


MENTION_LIST_CSS = {
    ".mention-list": {
        "border": "1px solid var(--gray-a6)",
        "border_radius": "var(--radius-3)",
        "background": "var(--color-panel-solid)",
        "box_shadow": "var(--shadow-3)",
        "padding": "4px",
        "max_width": "20em",
        "width": "100%",
    },
    ".mention-option": {
        "padding": "4px 8px",
        "border_radius": "var(--radius-2)",
        "cursor": "pointer",
        "color": "var(--gray-12)",
    },
    ".mention-option[aria-selected='true']": {
        "background": "var(--accent-4)",
        "color": "var(--accent-12)",
    },
}
