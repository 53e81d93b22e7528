"""Reactions: the ``React`` picker (common emoji, search by name) and the chips under a message."""

from __future__ import annotations

import reflex as rx

from blabber.components.common import icon_action_button
from blabber.services.views import MessageView, ReactionView
from blabber.state.auth import AuthState
from blabber.state.message_actions import COMMON_REACTIONS, MessageActionsState


def reaction_picker(msg: rx.Var[MessageView]) -> rx.Component:
    """``React``: common emoji, and any emoji found by name."""
    return rx.popover.root(
        rx.popover.trigger(icon_action_button("smile-plus", "React")),
        rx.popover.content(
            rx.vstack(
                rx.hstack(
                    *[_pick(msg, emoji, f"React with {emoji}") for emoji in COMMON_REACTIONS],
                    spacing="1",
                    wrap="wrap",
                ),
                rx.input(
                    placeholder="Search emoji",
                    aria_label="Search emoji",
                    on_change=MessageActionsState.search_emoji.debounce(150),
                    size="1",
                    width="100%",
                ),
                rx.hstack(
                    rx.foreach(
                        MessageActionsState.emoji_matches,
                        lambda match: _pick(msg, match[0], "React with " + match[1]),
                    ),
                    spacing="1",
                    wrap="wrap",
                    data_testid="emoji-results",
                ),
                spacing="2",
                max_width="17em",
            ),
            # The popover is a dialog to assistive technology; it needs a name.
            aria_label="Pick a reaction",
            size="1",
        ),
    )


def _pick(msg: rx.Var[MessageView], emoji, label) -> rx.Component:
    return rx.popover.close(
        rx.button(
            emoji,
            on_click=MessageActionsState.toggle_reaction(msg.id, emoji),
            aria_label=label,
            title=label,
            variant="soft",
            color_scheme="gray",
            size="2",
        )
    )


def reaction_chip(msg: rx.Var[MessageView], reaction: rx.Var[ReactionView]) -> rx.Component:
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
