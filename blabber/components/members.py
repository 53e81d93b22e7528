"""The ``Members`` panel with presence, and the room admin's ``Kick`` / ``Banned`` tools."""

from __future__ import annotations

import reflex as rx

from blabber.components.common import error_text, icon_action_button
from blabber.components.people_picker import add_people_dialog
from blabber.components.person_name import person_name
from blabber.services.views import BanView, MemberView
from blabber.state.admin import AdminState
from blabber.state.auth import AuthState
from blabber.state.chat import ChatState
from blabber.state.feed import FeedState
from blabber.state.people import PeopleState


def _member_row(member: rx.Var[MemberView]) -> rx.Component:
    return rx.hstack(
        rx.box(
            width="8px",
            height="8px",
            border_radius="50%",
            background=rx.cond(member.online, rx.color("grass", 9), rx.color("gray", 8)),
        ),
        rx.cond(
            member.avatar.bool(),
            rx.el.img(
                src=member.avatar,
                alt="",  # decorative: the name is next to it
                width=20,
                height=20,
                style={"border_radius": "50%"},
                data_testid="member-picture",
            ),
        ),
        person_name(member.username, size="2", bold=False, test_id="member-name"),
        rx.cond(member.role == "admin", rx.badge("admin", size="1", variant="soft")),
        rx.spacer(),
        rx.text(
            rx.cond(member.online, "online", "offline"),
            size="1",
            color_scheme="gray",
            data_testid="member-status",
        ),
        rx.cond(
            member.username != AuthState.username,
            icon_action_button(
                "message-square",
                "Message " + member.username,
                on_click=PeopleState.message_user(member.username),
                data_testid="message-member",
            ),
        ),
        rx.cond(
            (AdminState.is_admin | FeedState.admins.contains(AuthState.username))
            & (member.username != AuthState.username),
            rx.button(
                "Kick",
                on_click=AdminState.kick(member.user_id),
                aria_label="Kick " + member.username,
                size="1",
                color_scheme="red",
                variant="soft",
            ),
        ),
        align="center",
        width="100%",
        data_testid="member-row",
    )


def _ban_row(ban: rx.Var[BanView]) -> rx.Component:
    return rx.hstack(
        rx.text(ban.username, size="2"),
        rx.spacer(),
        rx.button(
            "Unban",
            on_click=AdminState.unban(ban.user_id),
            aria_label="Unban " + ban.username,
            size="1",
            variant="soft",
        ),
        width="100%",
        align="center",
    )


def _rule(label: str, checked: rx.Var[bool], on_change, test_id: str) -> rx.Component:
    """One of the room admin's checkboxes, named by its label."""
    return rx.el.label(
        rx.hstack(
            rx.checkbox(
                checked=checked, on_change=on_change, data_testid=test_id, aria_label=label
            ),
            rx.text(label, size="2"),
            align="center",
            spacing="2",
        ),
    )


def members_panel() -> rx.Component:
    """``Members`` with presence, and the admin's ``Banned`` list."""
    return rx.vstack(
        rx.hstack(
            rx.heading("Members", size="3"),
            rx.text(
                FeedState.online_count.to_string() + " online",
                size="1",
                color_scheme="gray",
                data_testid="online-count",
            ),
            align="baseline",
            width="100%",
            justify="between",
        ),
        rx.cond(
            FeedState.room == ChatState.room_name,
            rx.fragment(
                rx.foreach(FeedState.members, _member_row),
                rx.cond(
                    FeedState.member_count > FeedState.members.length(),
                    rx.text(
                        "and ",
                        (FeedState.member_count - FeedState.members.length()).to_string(),
                        " more",
                        size="1",
                        color_scheme="gray",
                    ),
                ),
            ),
        ),
        rx.cond(
            (ChatState.room_kind == "room") & (AdminState.is_admin | ~AdminState.add_admin_only),
            add_people_dialog(),
        ),
        error_text(AdminState.admin_error, "admin-error"),
        rx.cond(
            AdminState.is_admin & (ChatState.room_kind == "room"),
            rx.vstack(
                _rule(
                    "Only I can mention @room",
                    AdminState.everyone_admin_only,
                    AdminState.set_everyone_mentions,
                    "everyone-admin-only",
                ),
                _rule(
                    "Only I can add people",
                    AdminState.add_admin_only,
                    AdminState.set_add_people,
                    "add-admin-only",
                ),
                spacing="1",
            ),
        ),
        rx.cond(
            AdminState.is_admin & (AdminState.bans.length() > 0),
            rx.vstack(
                rx.heading("Banned", size="3"), rx.foreach(AdminState.bans, _ban_row), width="100%"
            ),
        ),
        padding="1em",
        spacing="2",
        width="100%",
    )
