"""Files attached to the composer's message (driven by ``assets/attachments.js``).

Reflex renders the fixed parts only: the paperclip button and its file input,
and a tray holding an empty list, an empty hidden ``attachment_ids`` input and
an empty error line. The script fills them (one chip per file, its upload
progress, the ids of the finished uploads, refusals) and React never renders
children or a value into them, so it never undoes what the script wrote. The
chips' look is here, in the tray's style, keyed by the attributes the script
sets (``data-status``, ``data-part``) and drawn only with Radix theme
variables, so dark mode follows.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

# What the script writes into a chip, styled from the tray.
_CHIP_CSS: dict[str, Any] = {
    "display": "inline-flex",
    "align_items": "center",
    "gap": "6px",
    "max_width": "100%",
    "min_height": "28px",
    "padding": "2px 2px 2px 8px",
    "border": "1px solid var(--gray-a6)",
    "border_radius": "var(--radius-3)",
    "background": "var(--gray-a2)",
    "color": "var(--gray-12)",
    "font_size": "var(--font-size-1)",
    "line_height": "var(--line-height-1)",
    "& img": {"width": "24px", "height": "24px", "object_fit": "cover", "flex_shrink": "0"},
    "& [data-part='name']": {
        "overflow": "hidden",
        "text_overflow": "ellipsis",
        "white_space": "nowrap",
        "max_width": "16em",
    },
    "& [data-part='size']": {"color": "var(--gray-11)", "white_space": "nowrap"},
    "& progress": {"width": "4em", "height": "6px", "accent_color": "var(--accent-9)"},
    "& [role='alert']": {"color": "var(--red-11)"},
    "&[data-status='failed']": {"border_color": "var(--red-a7)", "background": "var(--red-a2)"},
    "& button": {
        "flex_shrink": "0",
        "width": "24px",
        "height": "24px",
        "padding": "0",
        "border": "0",
        "border_radius": "var(--radius-2)",
        "background": "transparent",
        "color": "var(--gray-11)",
        "font_size": "16px",
        "line_height": "24px",
        "cursor": "pointer",
    },
    "& button:hover": {"background": "var(--gray-a4)", "color": "var(--gray-12)"},
    "& button:focus-visible": {"outline": "2px solid var(--focus-8)", "outline_offset": "1px"},
}

TRAY_CSS: dict[str, Any] = {
    "width": "100%",
    # Empty (no files, no refusal), the tray takes no room, not even a gap.
    "&:has(> ul:empty):has(> p:empty)": {"display": "none"},
    "& > ul": {
        "display": "flex",
        "flex_wrap": "wrap",
        "gap": "6px",
        "list_style": "none",
        "margin": "0",
        "padding": "0",
    },
    "& > ul:empty, & > p:empty": {"display": "none"},
    "& > ul > li": _CHIP_CSS,
    "& > p": {
        "margin": "4px 0 0",
        "color": "var(--red-11)",
        "font_size": "var(--font-size-1)",
        "white_space": "pre-line",  # one refusal a line
    },
}

DROPZONE_ATTRS: dict[str, Any] = {
    "data_attachment_dropzone": True,
    # Files dragged over it (the script sets data-dragging): an outline inside
    # its edge, so a zone that fills the view still shows it.
    "&[data-dragging='true']": {
        "outline": "2px dashed var(--accent-9)",
        "outline_offset": "-4px",
        "background": "var(--accent-a2)",
    },
}
"""Splat into the drop zone's props (``rx.vstack(..., **DROPZONE_ATTRS)``).

The selector key joins the zone's style; it merges with a ``style=`` given too.
"""


def attach_button() -> rx.Component:
    """``Attach files``: the paperclip that opens the file picker, and its hidden input.

    Place it inside the composer's form: the script opens the
    ``[data-attach-input]`` of the button's own form.
    """
    return rx.fragment(
        rx.icon_button(
            rx.icon("paperclip", size=18, aria_hidden="true"),
            type="button",  # inside the composer's form: must not send
            variant="ghost",
            size="2",
            color_scheme="gray",
            aria_label="Attach files",
            title="Attach files",
            data_attach_button=True,
            data_testid="attach-button",
        ),
        rx.el.input(
            type="file",
            multiple=True,
            aria_label="Choose files to attach",
            tab_index=-1,
            data_attach_input=True,
            style={"display": "none"},
        ),
    )


def attachment_tray(
    room_id: rx.Var[int] | int,
    max_bytes: rx.Var[int] | int,
    key: rx.Var[str] | str | None = None,
) -> rx.Component:
    """The files going with the next message, above the composer (inside its form).

    Args:
        room_id: The open room; uploads go to ``/api/files?room=<room_id>``.
        max_bytes: The largest file the server takes; larger ones are refused
            in the browser, before any upload.
        key: Changes when the room does (e.g. ``rx.State.router.url.path``):
            a new room mounts a new, empty tray, and the old one's uploads stop.

    Returns:
        A ``[data-attachment-tray]`` with the list, the hidden
        ``attachment_ids`` field (comma-separated ids, in order) and the error line.
    """
    return rx.el.div(
        rx.el.ul(data_attachment_list=True, aria_label="Files to send"),
        # Uncontrolled and without a value prop: the script owns its value.
        rx.el.input(type="hidden", name="attachment_ids"),
        rx.el.p(data_attachment_error=True, role="alert"),
        data_attachment_tray=True,
        data_room_id=room_id,
        data_max_bytes=max_bytes,
        data_testid="attachment-tray",
        key=key,
        style=TRAY_CSS,
    )
