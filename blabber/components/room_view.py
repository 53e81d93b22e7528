"""The open room: heading, history with paging, typing line and composer."""

from __future__ import annotations

import reflex as rx

from blabber.components.client_location import CLIENT_PATH
from blabber.components.common import add_key_handlers, error_text
from blabber.components.composer_files import DROPZONE_ATTRS, attach_button, attachment_tray
from blabber.components.formatting_help import formatting_help
from blabber.components.mention_suggestions import (
    MENTION_LIST_CSS,
    connect_script,
    mention_suggestions,
)
from blabber.components.message_row import LIST_CSS, message_row
from blabber.components.notifications_menu import notifications_menu
from blabber.components.phone_drawers import phone_drawer_buttons
from blabber.components.room_settings import room_settings_dialog
from blabber.services.views import MessageView
from blabber.state.admin import AdminState
from blabber.state.chat import ChatState
from blabber.state.composer import ComposerState
from blabber.state.feed import FeedState
from blabber.state.message_actions import MessageActionsState
from blabber.state.notifications import NotificationsState
from blabber.state.room import RoomState


def _feed_row(msg: rx.Var[MessageView]) -> rx.Component:
    """A feed message, shown once this tab has paged back to it."""
    return rx.cond(msg.id >= RoomState.show_from_id, message_row(msg))


def _recent_row(msg: rx.Var[MessageView]) -> rx.Component:
    """A ``recent`` feed row, in its newer version from ``changes`` when it has one."""
    key = msg.id.to_string()
    latest = rx.cond(FeedState.changes.contains(key), FeedState.changes[key], msg)
    return _feed_row(latest.to(MessageView))


# Which messages the page shows is stated once, in plain Python, in
# blabber/realtime/shown.py (bench and test clients use it); tests/test_shown.py
# runs the rendering below against it.
# The room's live feed belongs to the room this tab shows (not the one it
# showed a moment ago) and is hidden while reading history far back.
FEED_SHOWN = (FeedState.room == ChatState.room_name) & ~RoomState.has_newer
SHOWN_COUNT = RoomState.messages.length() + rx.cond(
    FEED_SHOWN, FeedState.recent.length() + FeedState.tail.length(), 0
)
HAS_OLDER = rx.cond(
    RoomState.messages.length() > 0,
    RoomState.has_older,
    FEED_SHOWN & (FeedState.has_older | (RoomState.show_from_id > FeedState.first_id)),
)


def _list_button(label: str, on_click, variant: str, loading=False) -> rx.Component:
    """A small button centred in the message list (paging back, back to the live end)."""
    return rx.center(
        rx.button(label, on_click=on_click, loading=loading, variant=variant, size="1"),
        width="100%",
    )


def _composer_box() -> rx.Component:
    """The message textarea: Enter sends, Shift+Enter adds a line.

    In an empty composer, Up-arrow edits my last message; Escape drops a reply.
    """
    box = rx.text_area(
        placeholder="Message "
        + rx.cond(ChatState.room_kind == "room", "#", "")
        + ChatState.room_title
        + " (Enter to send, Shift+Enter for a new line)",
        name="body",
        id="composer",
        # A new textarea per room: a draft must never follow the user into
        # another room and get posted there. Keyed by the browser's own path
        # (not the server's, which changes only when the new room's on_load
        # answers and would drop what was typed since the click), and not by
        # the open room's name, so a tab whose server state was lost (the
        # name is briefly empty until ChatState.resume) keeps its draft.
        key=CLIENT_PATH,
        aria_label="Message",
        aria_autocomplete="list",  # the @ suggestions (components/mention_suggestions.py)
        enter_key_submit=True,
        on_change=ComposerState.typing.throttle(1500),
        on_focus=connect_script(),
        rows="2",
        resize="vertical",
        width="100%",
        max_length=20000,
    )
    add_key_handlers(
        box,
        [
            (
                "e.key === 'ArrowUp' && !e.shiftKey && e.target.value === ''",
                MessageActionsState.edit_last,
            ),
            ("e.key === 'Escape'", ComposerState.cancel_reply),
        ],
    )
    return box


def _replying_to() -> rx.Component:
    """``Replying to <author>`` above the composer, with ``Cancel reply``."""
    return rx.cond(
        ComposerState.reply_to_id,
        rx.hstack(
            rx.icon("reply", size=14, aria_hidden="true"),
            rx.text("Replying to ", rx.text.strong(ComposerState.reply_author), size="1"),
            rx.text(
                ComposerState.reply_excerpt, size="1", color=rx.color("gray", 11), truncate=True
            ),
            rx.spacer(),
            rx.icon_button(
                rx.icon("x", size=14),
                on_click=ComposerState.cancel_reply,
                aria_label="Cancel reply",
                title="Cancel reply",
                variant="ghost",
                size="1",
                type="button",
            ),
            align="center",
            width="100%",
            data_testid="replying-to",
        ),
    )


def jump_to_latest_button() -> rx.Component:
    """``Jump to latest (N new)``: shown by assets/message_list.js while scrolled up.

    The script counts messages that arrive below the view and writes the count
    into ``data-count`` (the label's "(N new)" reads it); React never sets
    that attribute, so it does not undo it.
    """
    return rx.center(
        rx.button(
            "Jump to latest",
            id="jump-latest",
            type="button",
            size="1",
            radius="full",
            style={
                "&:not([data-count])": {"display": "none"},
                "&::after": {"content": "' (' attr(data-count) ' new)'"},
            },
        ),
        position="relative",
        height="0",
        top="-2.5em",
        width="100%",
        z_index="1",
    )


def room_view() -> rx.Component:
    """Heading, history, typing line and composer of the open room."""
    return rx.vstack(
        rx.hstack(
            # The heading is the room's name alone (screen readers and tests read
            # it as such); the "#" is decoration.
            rx.cond(
                ChatState.room_kind == "room",
                rx.cond(
                    ChatState.room_private,
                    rx.icon("lock", size=16, role="img", aria_label="Private room"),
                    rx.text("#", size="5", weight="bold", color_scheme="gray", aria_hidden="true"),
                ),
                rx.icon("users", size=18, aria_hidden="true"),
            ),
            rx.vstack(
                rx.heading(
                    ChatState.room_title, size="5", data_testid="room-heading", truncate=True
                ),
                rx.cond(
                    ChatState.room_topic != "",
                    rx.text(
                        ChatState.room_topic,
                        size="1",
                        color_scheme="gray",
                        truncate=True,
                        data_testid="room-topic",
                    ),
                ),
                spacing="0",
                min_width="0",
            ),
            rx.spacer(),
            phone_drawer_buttons(),
            rx.cond(AdminState.is_admin & (ChatState.room_kind == "room"), room_settings_dialog()),
            notifications_menu(),
            # A conversation's people are fixed: there is no leaving it.
            rx.cond(
                ChatState.room_kind == "room",
                rx.button(
                    "Leave room",
                    on_click=RoomState.leave_room,
                    variant="soft",
                    color_scheme="gray",
                    size="1",
                ),
            ),
            width="100%",
            align="center",
            padding="0.8em 1em",
            border_bottom=f"1px solid {rx.color('gray', 5)}",
        ),
        rx.auto_scroll(
            rx.vstack(
                rx.cond(
                    HAS_OLDER & ~RoomState.loading_room,
                    _list_button(
                        "Load older messages",
                        RoomState.load_older,
                        "ghost",
                        loading=RoomState.loading_older,
                    ),
                ),
                rx.cond(
                    RoomState.loading_room,
                    rx.center(rx.spinner(), width="100%", padding="2em"),
                    rx.fragment(
                        rx.foreach(RoomState.messages, message_row),
                        rx.cond(
                            FEED_SHOWN,
                            rx.fragment(
                                rx.foreach(FeedState.recent, _recent_row),
                                rx.foreach(FeedState.tail, _feed_row),
                            ),
                        ),
                        rx.cond(
                            FEED_SHOWN & (SHOWN_COUNT == 0),
                            rx.text("No messages yet. Say hello!", color_scheme="gray", size="2"),
                        ),
                    ),
                ),
                rx.cond(
                    RoomState.has_newer,
                    _list_button("Jump to latest messages", RoomState.jump_to_latest, "soft"),
                ),
                spacing="1",
                width="100%",
                padding="1em",
                style=LIST_CSS,
            ),
            flex="1",
            width="100%",
            id="message-list",
            data_testid="message-list",
        ),
        jump_to_latest_button(),
        rx.box(
            rx.text(
                rx.cond(FEED_SHOWN, FeedState.typing_text, ""),
                size="1",
                color_scheme="gray",
                data_testid="typing-line",
            ),
            height="1.4em",
            padding_x="1em",
        ),
        rx.form(
            rx.vstack(
                error_text(RoomState.room_error, "room-error"),
                error_text(NotificationsState.level_error, "level-error"),
                error_text(MessageActionsState.action_error, "action-error"),
                error_text(ComposerState.composer_error, "composer-error"),
                rx.cond(
                    ComposerState.composer_notice != "",
                    rx.text(
                        ComposerState.composer_notice,
                        size="2",
                        color_scheme="gray",
                        data_testid="composer-notice",
                        role="status",
                    ),
                ),
                _replying_to(),
                mention_suggestions(),
                attachment_tray(
                    ComposerState.upload_room_id,
                    ComposerState.upload_max_bytes,
                    key=rx.State.router.url.path,  # a room switch starts an empty tray
                ),
                rx.hstack(
                    rx.el.input(type="hidden", name="client_id", value=ComposerState.draft_id),
                    attach_button(),
                    _composer_box(),
                    formatting_help(),
                    rx.button("Send", type="submit", loading=ComposerState.sending, size="3"),
                    width="100%",
                    align="end",
                ),
                width="100%",
                spacing="2",
            ),
            on_submit=ComposerState.send,
            reset_on_submit=False,
            style=MENTION_LIST_CSS,
            width="100%",
            padding="0.5em 1em 1em",
        ),
        height="100%",
        spacing="0",
        width="100%",
        min_width="0",
        # Files dropped anywhere on the room go to the composer (assets/attachments.js).
        **DROPZONE_ATTRS,
    )
