"""``Formatting help`` beside the composer: what a message can use, as typed and as shown.

Each example is rendered by the same Markdown renderer as the messages, so the
help cannot drift from what a message really looks like.
"""

from __future__ import annotations

import reflex as rx

from blabber.components.markdown import markdown_box

EXAMPLES: list[tuple[str, str]] = [
    ("Bold", "**bold**"),
    ("Italic", "*italic*"),
    ("Strikethrough", "~~strike~~"),
    ("Inline code", "`code`"),
    ("Code block", "```python\nprint('hi')\n```"),
    ("Quote", "> quote"),
    ("List", "- item\n- another"),
    ("Numbered list", "1. first\n2. second"),
    ("Link", "[link](https://example.com)"),
    ("Emoji", ":tada: :rocket: :+1:"),
    ("Mention", "@username @room"),
]


def _example(name: str, source: str) -> rx.Component:
    return rx.fragment(
        rx.text(name, size="1", color_scheme="gray"),
        rx.code(source, white_space="pre", variant="ghost", size="1"),
        markdown_box(source, font_size="var(--font-size-2)"),
    )


def formatting_help() -> rx.Component:
    """A button named ``Formatting help`` that opens the list of Markdown a message understands."""
    return rx.popover.root(
        rx.popover.trigger(
            rx.icon_button(
                rx.icon("circle-help", size=18),
                type="button",  # inside the composer's form: must not send
                aria_label="Formatting help",
                title="Formatting help",
                variant="ghost",
                color_scheme="gray",
                size="2",
            )
        ),
        rx.popover.content(
            rx.heading("Formatting", size="2", margin_bottom="0.5em"),
            rx.grid(
                rx.text("", size="1"),
                rx.text("You type", size="1", weight="bold"),
                rx.text("You get", size="1", weight="bold"),
                *[_example(name, source) for name, source in EXAMPLES],
                grid_template_columns="auto auto 1fr",
                column_gap="1em",
                row_gap="0.4em",
                align_items="baseline",
            ),
            rx.text(
                "Enter sends, Shift+Enter starts a new line. Type @ to mention a member: "
                "Up and Down choose, Enter or Tab inserts, Escape closes the list. "
                "HTML is shown as typed; links open in a new tab; images show their "
                "description.",
                size="1",
                color_scheme="gray",
                margin_top="0.75em",
            ),
            aria_label="Formatting help",
            max_width="28em",
            size="2",
        ),
    )
