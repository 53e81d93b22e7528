"""A message's files: pictures as thumbnails that open a viewer, other files as download cards.

Stateless: it takes the message's var. A thumbnail's box has its final size
from the start (``FileView.shown_width``/``shown_height``), so the list does
not jump as pictures load. The viewer is a dialog per picture, mounted only
while open; Escape or ``Close`` closes it. Every URL here is an endpoint
that checks the reader's membership (endpoints.files), never a static file.
"""

from __future__ import annotations

import reflex as rx

from blabber.services.views import FileView, MessageView


def message_files(msg: rx.Var[MessageView]) -> rx.Component:
    """The files under a message (nothing when it has none, or was deleted)."""
    return rx.cond(
        ~msg.deleted & msg.files.bool(),  # absent from the row when empty (as_row)
        rx.flex(
            rx.foreach(msg.files, _file),
            wrap="wrap",
            gap="0.5em",
            padding_top="0.25em",
            data_testid="message-files",
        ),
    )


def _file(file: rx.Var[FileView]) -> rx.Component:
    return rx.cond(file.image, _picture(file), _card(file))


def _picture(file: rx.Var[FileView]) -> rx.Component:
    thumbnail = rx.el.img(
        src=file.thumb_url,
        alt=file.name,
        width=file.shown_width,
        height=file.shown_height,
        loading="lazy",
        decoding="async",
        style={
            "display": "block",
            "max_width": "100%",
            "height": "auto",
            "border_radius": "6px",
            "background": rx.color("gray", 3),
        },
        data_testid="file-thumbnail",
    )
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.el.button(
                thumbnail,
                type="button",
                aria_label="Open " + file.name,
                title="Open " + file.name,
                style={
                    "padding": 0,
                    "border": "none",
                    "background": "none",
                    "cursor": "zoom-in",
                    "max_width": "100%",
                },
            ),
        ),
        rx.dialog.content(
            rx.dialog.title(file.name, size="3", truncate=True),
            rx.el.img(
                src=file.url,
                alt=file.name,
                style={
                    "display": "block",
                    "max_width": "100%",
                    "max_height": "75vh",
                    "margin": "0 auto",
                    "object_fit": "contain",
                },
                data_testid="viewer-image",
            ),
            rx.hstack(
                rx.text(file.size_label, size="1", color=rx.color("gray", 11)),
                rx.spacer(),
                _download(file),
                rx.dialog.close(rx.button("Close", variant="soft", size="2")),
                align="center",
                padding_top="0.75em",
            ),
            max_width="min(95vw, 1200px)",
            aria_describedby=None,
            data_testid="image-viewer",
        ),
    )


def _download(file: rx.Var[FileView]) -> rx.Component:
    return rx.el.a(
        "Download",
        href=file.url,
        download=file.name,
        # rx.el.a is React Router's Link: without this it routes the click in the page.
        reload_document=True,
        aria_label="Download " + file.name,
        style={"color": rx.color("accent", 11), "font_size": "0.875em", "font_weight": 500},
        data_testid="file-download",
    )


def _card(file: rx.Var[FileView]) -> rx.Component:
    return rx.hstack(
        rx.icon("file-text", size=22, aria_hidden="true", color=rx.color("gray", 11)),
        rx.vstack(
            rx.text(file.name, size="2", weight="medium", truncate=True, max_width="16em"),
            rx.text(file.size_label, size="1", color=rx.color("gray", 11)),
            spacing="0",
        ),
        _download(file),
        align="center",
        spacing="3",
        padding="0.5em 0.75em",
        border=f"1px solid {rx.color('gray', 6)}",
        border_radius="8px",
        background=rx.color("gray", 2),
        data_testid="file-card",
    )
