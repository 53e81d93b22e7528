"""One message of the list: author, time, text, reactions, and the actions on it.

The actions (``React``, ``Edit``, ``Delete``) show on hover and when the row
holds the keyboard focus; ``Edit`` and ``Delete`` are offered only where the
service would allow them (my own messages; ``Delete`` also for the room's
admin). A deleted message keeps its place as "This message was deleted".
"""

from __future__ import annotations

import reflex as rx
from reflex_base.vars.base import Var, VarData

from blabber import routes
from blabber.components.common import add_key_handlers, icon_action_button
from blabber.components.markdown import message_body
from blabber.components.message_files import message_files
from blabber.components.person_name import person_name
from blabber.components.reactions import reaction_chip, reaction_picker
from blabber.services.views import MessageView
from blabber.state.admin import AdminState
from blabber.state.auth import AuthState
from blabber.state.chat import ChatState
from blabber.state.composer import ComposerState
from blabber.state.message_actions import MessageActionsState
from blabber.state.room import RoomState

ACTIONS_CLASS = "message-actions"
# The actions stay in the tab order and the accessibility tree; only their
# look waits for hover or focus. They float over the row's top right corner,
# so a grouped message (no heading of its own) has them too.
ROW_CSS = {
    "position": "relative",
    f".{ACTIONS_CLASS}": {
        "opacity": 0,
        "position": "absolute",
        "top": "-0.9em",
        "right": "0.5em",
        "background": rx.color("gray", 1),
        "border": f"1px solid {rx.color('gray', 5)}",
        "border_radius": "6px",
        "padding": "2px",
    },
    f"&:hover .{ACTIONS_CLASS}, &:focus-within .{ACTIONS_CLASS}": {"opacity": 1},
    "&:hover": {"background": rx.color("gray", 2)},
}
# The list shows a day divider above the first message of each day, and one
# heading (name and time) per run of one person's messages; the first row the
# page shows (nothing above it to share) always has both. Rows carry the facts
# (``data-new-day``, ``data-continued``); these rules, set on the list, decide.
LIST_CSS = {
    ".message-row .day-divider": {"display": "none"},
    ".message-row[data-continued='true'] .message-header": {"display": "none"},
    (
        ".message-row[data-new-day='true'] .day-divider,"
        " :not(.message-row) + .message-row .day-divider,"
        " .message-row:first-child .day-divider"
    ): {"display": "flex"},
    (
        ".message-row[data-new-day='true'] .message-header,"
        " :not(.message-row) + .message-row .message-header,"
        " .message-row:first-child .message-header"
    ): {"display": "flex"},
}


def _js(template: str, msg: rx.Var[MessageView], var_type: type = str) -> Var:
    """A browser-side expression over ``msg`` (``{created}``, ``{prev}``: its times)."""
    code = template.replace("{created}", str(msg.created_at)).replace("{prev}", str(msg.prev_at))
    return Var(_js_expr=code, _var_type=var_type, _var_data=msg._get_all_var_data())


# In the viewer's time zone, which only the browser knows.
_NEW_DAY = "(!{prev} || new Date({created}).toDateString() !== new Date({prev}).toDateString())"
_DAY_LABEL = (
    "((d) => { const now = new Date(); const y = new Date(now); y.setDate(now.getDate() - 1);"
    " if (d.toDateString() === now.toDateString()) return 'Today';"
    " if (d.toDateString() === y.toDateString()) return 'Yesterday';"
    " return d.toLocaleDateString(undefined, {weekday: 'long', month: 'long', day: 'numeric',"
    " ...(d.getFullYear() === now.getFullYear() ? {} : {year: 'numeric'})});"
    " })(new Date({created}))"
)
_FULL_TIME = (
    "new Date({created}).toLocaleString(undefined, {dateStyle: 'full', timeStyle: 'short'})"
)


def message_row(msg: rx.Var[MessageView]) -> rx.Component:
    """One row of the list: its dividers, then a system line or a person's message."""
    return rx.box(
        _divider(rx.text(_js(_DAY_LABEL, msg)), "day-divider"),
        rx.cond(
            msg.id == RoomState.unread_from_id,
            _divider(rx.text("New messages", color=rx.color("red", 11)), "new-messages-divider"),
        ),
        rx.cond(msg.kind == "system", _system_line(msg), _person_message(msg)),
        class_name="message-row",
        id="message-" + msg.id.to_string(),
        tab_index=-1,  # a permalink or a reply's quote moves the focus here
        custom_attrs={
            "data-new-day": _js(_NEW_DAY, msg, bool),
            "data-continued": msg.continued,
            "data-highlighted": msg.id == RoomState.highlight_id,
        },
        background=rx.cond(msg.id == RoomState.highlight_id, rx.color("amber", 3), "transparent"),
        border_radius="6px",
        width="100%",
        key=msg.id,
    )


def _divider(label: rx.Component, test_id: str) -> rx.Component:
    return rx.hstack(
        rx.separator(size="4", flex="1"),
        label,
        rx.separator(size="4", flex="1"),
        class_name=test_id,
        align="center",
        role="separator",
        font_size="0.75em",
        font_weight="bold",
        color=rx.color("gray", 11),
        width="100%",
        padding_y="0.4em",
        data_testid=test_id,
    )


def _system_line(msg: rx.Var[MessageView]) -> rx.Component:
    return rx.text(
        msg.body,
        size="1",
        color=rx.color("gray", 11),
        align="center",
        width="100%",
        data_testid="system-line",
        key=msg.id,  # tests/test_shown.py reads the row's id here
    )


def _person_message(msg: rx.Var[MessageView]) -> rx.Component:
    """Name and time (unless grouped), reply quote, text, reactions, actions."""
    return rx.box(
        rx.hstack(
            rx.cond(
                msg.author_avatar.bool(),  # absent from the row when none (as_row)
                rx.el.img(
                    src=msg.author_avatar,
                    alt="",  # decorative: the name is next to it
                    width=20,
                    height=20,
                    style={"border_radius": "50%", "align_self": "center"},
                    data_testid="author-picture",
                ),
            ),
            person_name(msg.author, msg.author_display),
            rx.el.time(
                rx.moment(msg.created_at, format="HH:mm", local=True),
                date_time=msg.created_at,
                title=_js(_FULL_TIME, msg),
                font_size="0.75em",
                color=rx.color("gray", 11),
                data_testid="message-time",
            ),
            class_name="message-header",
            align="baseline",
            spacing="2",
        ),
        rx.cond(msg.reply_to_id, _reply_quote(msg)),
        rx.cond(
            msg.deleted,
            rx.text(
                "This message was deleted",
                size="2",
                color=rx.color("gray", 11),
                font_style="italic",
                data_testid="message-deleted",
            ),
            rx.cond(MessageActionsState.editing_id == msg.id, _editor(msg), _body_and_mark(msg)),
        ),
        message_files(msg),
        rx.cond(
            ~msg.deleted & msg.reactions.bool(),  # absent from the row when empty (as_row)
            rx.hstack(
                rx.foreach(msg.reactions, lambda r: reaction_chip(msg, r)),
                spacing="1",
                wrap="wrap",
                padding_top="0.25em",
            ),
        ),
        rx.cond(~msg.deleted, _actions(msg)),
        style=ROW_CSS,
        padding="0.15em 0.5em",
        width="100%",
        data_testid="message",
        key=msg.id,  # tests/test_shown.py reads the row's id here
    )


def _reply_quote(msg: rx.Var[MessageView]) -> rx.Component:
    """A reply's short quote of its original; a click shows the original."""
    return rx.el.button(
        rx.icon("reply", size=12, aria_hidden="true"),
        rx.cond(
            msg.reply_deleted,
            rx.text("Original message deleted", font_style="italic"),
            rx.fragment(
                rx.text(msg.reply_author, weight="bold"),
                rx.text(msg.reply_excerpt, truncate=True),
            ),
        ),
        on_click=RoomState.show_message(msg.reply_to_id),
        # Its name is what it shows (author and first line); the title says what it does.
        title="Show the original message",
        disabled=msg.reply_deleted,
        display="flex",
        align_items="center",
        gap="0.4em",
        max_width="100%",
        font_size="0.8em",
        color=rx.color("gray", 11),
        background="none",
        border="none",
        border_left=f"3px solid {rx.color('gray', 6)}",
        padding="0 0.5em",
        margin_y="0.2em",
        cursor="pointer",
        data_testid="reply-quote",
    )


def _body_and_mark(msg: rx.Var[MessageView]) -> rx.Component:
    return rx.box(
        _body(msg),
        rx.cond(
            msg.edited,
            rx.text("(edited)", size="1", color=rx.color("gray", 11), data_testid="edited-mark"),
        ),
    )


def _body(msg: rx.Var[MessageView]) -> rx.Component:
    return message_body(source=msg.body, me=AuthState.username)


def _actions(msg: rx.Var[MessageView]) -> rx.Component:
    mine = msg.author == AuthState.username
    return rx.hstack(
        icon_action_button("reply", "Reply", on_click=ComposerState.start_reply(msg.id)),
        reaction_picker(msg),
        rx.cond(
            mine,
            icon_action_button("pencil", "Edit", on_click=MessageActionsState.start_edit(msg.id)),
        ),
        rx.cond(mine | AdminState.is_admin, _delete(msg)),
        icon_action_button("link", "Copy link", on_click=_copy_link(msg)),
        class_name=ACTIONS_CLASS,
        spacing="1",
    )


def _copy_link(msg: rx.Var[MessageView]) -> list:
    """``Copy link``: the message's permalink (``routes.message_path``), built in the browser."""
    url = Var(
        _js_expr=(
            f"window.location.origin + {ChatState.room_path!s}"
            f" + '?{routes.MESSAGE_PARAM}=' + {msg.id!s}"
        ),
        _var_type=str,
        _var_data=VarData.merge(ChatState.room_path._get_all_var_data(), msg._get_all_var_data()),
    )
    return [rx.set_clipboard(url), rx.toast.success("Link copied", duration=2000)]


def _delete(msg: rx.Var[MessageView]) -> rx.Component:
    """``Delete`` asks first: the dialog's confirming button is ``Delete`` too."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(icon_action_button("trash-2", "Delete", color_scheme="red")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this message?"),
            rx.alert_dialog.description(
                "It disappears for everyone in the room. This cannot be undone."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Delete",
                        color_scheme="red",
                        # White on Radix's solid red is 3.7:1; high contrast (dark
                        # red, light pink in dark mode) keeps it red and readable.
                        high_contrast=True,
                        on_click=MessageActionsState.delete_message(msg.id),
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
    )


def _editor(msg: rx.Var[MessageView]) -> rx.Component:
    """The message as an editor: Enter saves, Escape cancels, Shift+Enter adds a line."""
    box = rx.text_area(
        name="body",
        default_value=msg.body,
        aria_label="Edit message",
        enter_key_submit=True,
        auto_focus=True,
        rows="2",
        width="100%",
        max_length=20000,
    )
    add_key_handlers(box, [("e.key === 'Escape'", MessageActionsState.cancel_edit)])
    return rx.form(
        rx.vstack(
            box,
            rx.text(
                "Enter to save, Escape to cancel, Shift+Enter for a new line",
                size="1",
                color_scheme="gray",
            ),
            width="100%",
            spacing="1",
        ),
        on_submit=MessageActionsState.save_edit,
        reset_on_submit=False,
        width="100%",
    )
