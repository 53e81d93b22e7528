"""One message of the list: author, time, text, reactions, and the actions on it.

The actions (``React``, ``Edit``, ``Delete``) show on hover and when the row
holds the keyboard focus; ``Edit`` and ``Delete`` are offered only where the
service would allow them (my own messages; ``Delete`` also for the room's
admin). A deleted message keeps its place as "This message was deleted".
"""

from __future__ import annotations

import reflex as rx
from reflex_base.vars.base import Var

from blabber.services.views import MessageView, ReactionView
from blabber.state.admin import AdminState
from blabber.state.auth import AuthState
from blabber.state.message_actions import COMMON_REACTIONS, MessageActionsState

ACTIONS_CLASS = "message-actions"
# The actions stay in the tab order and the accessibility tree; only their
# look waits for hover or focus.
ROW_CSS = {
    f".{ACTIONS_CLASS}": {"opacity": 0},
    f"&:hover .{ACTIONS_CLASS}, &:focus-within .{ACTIONS_CLASS}": {"opacity": 1},
}


def message_row(msg: rx.Var[MessageView]) -> rx.Component:
    """A system line, or a person's message with its actions."""
    return rx.cond(
        msg.kind == "system",
        rx.text(
            msg.body,
            size="1",
            color_scheme="gray",
            align="center",
            width="100%",
            data_testid="system-line",
            key=msg.id,
        ),
        rx.box(
            rx.hstack(
                rx.text(msg.author, weight="bold", size="2", data_testid="message-author"),
                rx.moment(
                    msg.created_at,
                    format="HH:mm",
                    local=True,
                    font_size="0.75em",
                    # Step 11, Radix's step for low-contrast text: step 10 is below
                    # 4.5:1 at this size (3.8:1 light, 4.4:1 dark).
                    color=rx.color("gray", 11),
                ),
                rx.cond(
                    msg.edited & ~msg.deleted, rx.text("(edited)", size="1", color_scheme="gray")
                ),
                rx.spacer(),
                rx.cond(~msg.deleted, _actions(msg)),
                align="baseline",
                spacing="2",
                width="100%",
            ),
            rx.cond(
                msg.deleted,
                rx.text(
                    "This message was deleted",
                    size="2",
                    color_scheme="gray",
                    font_style="italic",
                    data_testid="message-deleted",
                ),
                rx.cond(MessageActionsState.editing_id == msg.id, _editor(msg), _body(msg)),
            ),
            rx.cond(
                ~msg.deleted,
                rx.hstack(
                    rx.foreach(msg.reactions, lambda r: _chip(msg, r)),
                    spacing="1",
                    wrap="wrap",
                ),
            ),
            width="100%",
            css=ROW_CSS,
            data_testid="message",
            key=msg.id,
        ),
    )


def _body(msg: rx.Var[MessageView]) -> rx.Component:
    return rx.text(
        msg.body,
        white_space="pre-wrap",
        overflow_wrap="anywhere",
        unicode_bidi="plaintext",
        data_testid="message-body",
    )


def _actions(msg: rx.Var[MessageView]) -> rx.Component:
    mine = msg.author == AuthState.username
    return rx.hstack(
        rx.popover.root(
            rx.popover.trigger(_action_button("smile-plus", "React")),
            rx.popover.content(
                rx.hstack(
                    *[
                        rx.popover.close(
                            rx.button(
                                emoji,
                                on_click=MessageActionsState.toggle_reaction(msg.id, emoji),
                                aria_label=f"React with {emoji}",
                                variant="soft",
                                color_scheme="gray",
                                size="2",
                            )
                        )
                        for emoji in COMMON_REACTIONS
                    ],
                    spacing="1",
                    wrap="wrap",
                    max_width="16em",
                ),
                # The popover is a dialog to assistive technology; it needs a name.
                aria_label="Pick a reaction",
                size="1",
            ),
        ),
        rx.cond(
            mine,
            _action_button("pencil", "Edit", on_click=MessageActionsState.start_edit(msg.id)),
        ),
        rx.cond(mine | AdminState.is_admin, _delete(msg)),
        class_name=ACTIONS_CLASS,
        spacing="1",
    )


def _action_button(icon: str, label: str, **props) -> rx.Component:
    return rx.icon_button(
        rx.icon(icon, size=14), aria_label=label, title=label, variant="ghost", size="1", **props
    )


def _delete(msg: rx.Var[MessageView]) -> rx.Component:
    """``Delete`` asks first: the dialog's confirming button is ``Delete`` too."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(_action_button("trash-2", "Delete", color_scheme="red")),
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
    # Reflex allows one key handler: Enter-to-save's, extended here by Escape.
    cancel = Var.create(rx.EventChain.create([MessageActionsState.cancel_edit], args_spec=_one_arg))
    box.custom_attrs["on_key_down"] = Var(
        _js_expr=(
            f'(e) => (e.key === "Escape" ? ({cancel!s})(e) : enterKeySubmitOnKeyDown(e, true))'
        ),
        _var_data=cancel._get_all_var_data(),
    )
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


def _one_arg(event: rx.Var) -> list[rx.Var]:
    return [event]


def _chip(msg: rx.Var[MessageView], reaction: rx.Var[ReactionView]) -> rx.Component:
    """``👍 2``: who reacted on hover; a click toggles my own reaction."""
    mine = reaction.users.contains(AuthState.username)
    label = reaction.emoji + " " + reaction.count.to_string()
    return rx.button(
        label,
        on_click=MessageActionsState.toggle_reaction(msg.id, reaction.emoji),
        aria_label=label,
        aria_pressed=rx.cond(mine, "true", "false"),
        title=reaction.users.join(", "),
        variant=rx.cond(mine, "soft", "outline"),
        size="1",
        radius="full",
        data_testid="reaction-chip",
    )
