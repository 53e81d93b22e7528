"""The chat shell: sidebar, room view, members panel (bound to ChatState)."""

from __future__ import annotations

import reflex as rx

from blabber import routes
from blabber.components.common import brand, color_mode_toggle, error_text, reconnecting_banner
from blabber.services.views import BanView, MemberView, MessageView, RoomSummary
from blabber.state.auth import AuthState
from blabber.state.chat import ChatState
from blabber.state.feed import FeedState

ASK_NOTIFICATIONS = (
    "if (window.Notification && Notification.permission === 'default') "
    "{ Notification.requestPermission(); }"
)


def _room_entry(room: rx.Var[RoomSummary]) -> rx.Component:
    current = ChatState.room_name == room.name
    return rx.link(
        rx.hstack(
            rx.text("# ", room.name, trim="both", truncate=True),
            rx.spacer(),
            rx.cond(
                room.unread > 0,
                rx.badge(
                    room.unread, color_scheme="red", radius="full", data_testid="unread-badge"
                ),
            ),
            align="center",
            width="100%",
            padding_x="0.6em",
            padding_y="0.35em",
            border_radius="6px",
            background=rx.cond(current, rx.color("accent", 4), "transparent"),
            font_weight=rx.cond(current, "bold", "normal"),
        ),
        href="/rooms/" + room.name,
        underline="none",
        color=rx.color("gray", 12),
        aria_current=rx.cond(current, "page", "false"),
        data_testid="room-entry",
        width="100%",
    )


def sidebar() -> rx.Component:
    """My identity, the join box and my rooms."""
    return rx.vstack(
        rx.hstack(brand(), rx.spacer(), color_mode_toggle(), width="100%", align="center"),
        rx.hstack(
            rx.avatar(fallback=AuthState.username.to(str)[:2], size="2", radius="full"),
            rx.text(
                AuthState.username, weight="bold", data_testid="current-username", truncate=True
            ),
            rx.spacer(),
            rx.button("Log out", on_click=AuthState.log_out, variant="soft", size="1"),
            width="100%",
            align="center",
        ),
        rx.form(
            rx.hstack(
                rx.input(
                    placeholder="Room name",
                    name="room_name",
                    id="room_name_input",
                    aria_label="Room name",
                    max_length=60,
                    width="100%",
                ),
                rx.button("Join", type="submit", loading=ChatState.joining),
                width="100%",
            ),
            on_submit=ChatState.join_room,
            reset_on_submit=False,
            width="100%",
        ),
        error_text(ChatState.join_error, "join-error"),
        rx.text("Rooms", size="1", weight="bold", color_scheme="gray"),
        rx.cond(
            ChatState.rooms.length() > 0,
            rx.vstack(rx.foreach(ChatState.rooms, _room_entry), width="100%", spacing="1"),
            rx.text(
                "No rooms yet. Type a name above to create or join one.",
                size="2",
                color_scheme="gray",
            ),
        ),
        rx.spacer(),
        rx.button(
            "Enable notifications",
            on_click=rx.call_script(ASK_NOTIFICATIONS),
            variant="ghost",
            size="1",
        ),
        height="100%",
        padding="1em",
        spacing="3",
        width="100%",
    )


def _message_row(msg: rx.Var[MessageView]) -> rx.Component:
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
                    color=rx.color("gray", 10),
                ),
                align="baseline",
                spacing="2",
            ),
            rx.text(
                msg.body,
                white_space="pre-wrap",
                overflow_wrap="anywhere",
                unicode_bidi="plaintext",
                data_testid="message-body",
            ),
            width="100%",
            data_testid="message",
            key=msg.id,
        ),
    )


def _feed_row(msg: rx.Var[MessageView]) -> rx.Component:
    """A feed message, shown once this tab has paged back to it."""
    return rx.cond(msg.id >= ChatState.show_from_id, _message_row(msg))


# Which messages the page shows is stated once, in plain Python, in
# blabber/realtime/shown.py (bench and test clients use it); tests/test_shown.py
# runs the rendering below against it.
# The room's live feed belongs to the room this tab shows (not the one it
# showed a moment ago) and is hidden while reading history far back.
FEED_SHOWN = (FeedState.room == ChatState.room_name) & ~ChatState.has_newer
SHOWN_COUNT = ChatState.messages.length() + rx.cond(
    FEED_SHOWN, FeedState.recent.length() + FeedState.tail.length(), 0
)
HAS_OLDER = rx.cond(
    ChatState.messages.length() > 0,
    ChatState.has_older,
    FEED_SHOWN & (FeedState.has_older | (ChatState.show_from_id > FeedState.first_id)),
)


def room_view() -> rx.Component:
    """Heading, history, typing line and composer of the open room."""
    return rx.vstack(
        rx.hstack(
            # The heading is the room's name alone (screen readers and tests read
            # it as such); the "#" is decoration.
            rx.text("#", size="5", weight="bold", color_scheme="gray", aria_hidden="true"),
            rx.heading(ChatState.room_name, size="5", data_testid="room-heading", truncate=True),
            rx.spacer(),
            rx.button(
                "Leave room",
                on_click=ChatState.leave_room,
                variant="soft",
                color_scheme="gray",
                size="1",
            ),
            width="100%",
            align="center",
            padding="0.8em 1em",
            border_bottom=f"1px solid {rx.color('gray', 5)}",
        ),
        rx.auto_scroll(
            rx.vstack(
                rx.cond(
                    HAS_OLDER & ~ChatState.loading_room,
                    rx.center(
                        rx.button(
                            "Load older messages",
                            on_click=ChatState.load_older,
                            loading=ChatState.loading_older,
                            variant="ghost",
                            size="1",
                        ),
                        width="100%",
                    ),
                ),
                rx.cond(
                    ChatState.loading_room,
                    rx.center(rx.spinner(), width="100%", padding="2em"),
                    rx.fragment(
                        rx.foreach(ChatState.messages, _message_row),
                        rx.cond(
                            FEED_SHOWN,
                            rx.fragment(
                                rx.foreach(FeedState.recent, _feed_row),
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
                    ChatState.has_newer,
                    rx.center(
                        rx.button(
                            "Jump to latest messages",
                            on_click=ChatState.jump_to_latest,
                            variant="soft",
                            size="1",
                        ),
                        width="100%",
                    ),
                ),
                spacing="3",
                width="100%",
                padding="1em",
            ),
            flex="1",
            width="100%",
            data_testid="message-list",
        ),
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
                error_text(ChatState.composer_error, "composer-error"),
                rx.hstack(
                    rx.el.input(type="hidden", name="client_id", value=ChatState.draft_id),
                    rx.text_area(
                        placeholder="Message #"
                        + ChatState.room_name
                        + " (Enter to send, Shift+Enter for a new line)",
                        name="body",
                        id="composer",
                        # A new textarea per room: a draft must never follow the
                        # user into another room and get posted there.
                        key=ChatState.room_name,
                        aria_label="Message",
                        enter_key_submit=True,
                        on_change=ChatState.typing.throttle(1500),
                        rows="2",
                        resize="vertical",
                        width="100%",
                        max_length=20000,
                    ),
                    rx.button("Send", type="submit", loading=ChatState.sending, size="3"),
                    width="100%",
                    align="end",
                ),
                width="100%",
                spacing="2",
            ),
            on_submit=ChatState.send,
            reset_on_submit=False,
            width="100%",
            padding="0.5em 1em 1em",
        ),
        height="100%",
        spacing="0",
        width="100%",
        min_width="0",
    )


def _member_row(member: rx.Var[MemberView]) -> rx.Component:
    return rx.hstack(
        rx.box(
            width="8px",
            height="8px",
            border_radius="50%",
            background=rx.cond(member.online, rx.color("grass", 9), rx.color("gray", 8)),
        ),
        rx.text(member.username, size="2", truncate=True, data_testid="member-name"),
        rx.cond(member.role == "admin", rx.badge("admin", size="1", variant="soft")),
        rx.spacer(),
        rx.text(
            rx.cond(member.online, "online", "offline"),
            size="1",
            color_scheme="gray",
            data_testid="member-status",
        ),
        rx.cond(
            (ChatState.is_admin | FeedState.admins.contains(AuthState.username))
            & (member.username != AuthState.username),
            rx.button(
                "Kick",
                on_click=ChatState.kick(member.user_id),
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
            on_click=ChatState.unban(ban.user_id),
            aria_label="Unban " + ban.username,
            size="1",
            variant="soft",
        ),
        width="100%",
        align="center",
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
            ChatState.is_admin & (ChatState.bans.length() > 0),
            rx.vstack(
                rx.heading("Banned", size="3"), rx.foreach(ChatState.bans, _ban_row), width="100%"
            ),
        ),
        padding="1em",
        spacing="2",
        width="100%",
    )


def notice_banner() -> rx.Component:
    """A dismissible notice (e.g. ``You were removed from <room>``)."""
    return rx.cond(
        ChatState.notice != "",
        rx.callout(
            rx.hstack(
                rx.text(ChatState.notice, data_testid="notice"),
                rx.spacer(),
                rx.button("Dismiss", on_click=ChatState.dismiss_notice, size="1", variant="ghost"),
                width="100%",
            ),
            color_scheme="amber",
            margin="1em",
        ),
    )


def degraded_banner() -> rx.Component:
    """Shown while this worker has lost its live-delivery broker (e.g. Redis is down)."""
    return rx.cond(
        FeedState.degraded,
        rx.callout(
            "Live updates are interrupted; reconnecting… Messages you send are still "
            "saved and will appear when the connection is back.",
            color_scheme="amber",
            role="status",
            margin="1em",
            data_testid="degraded-banner",
        ),
    )


def empty_room_placeholder() -> rx.Component:
    """What the main area shows when no room is open."""
    return rx.center(
        rx.vstack(
            rx.heading("Welcome to Blabber", size="6"),
            rx.text(
                "Pick a room on the left, or type a room name and press Join.", color_scheme="gray"
            ),
            align="center",
        ),
        height="100%",
        padding="2em",
    )


def shell(main: rx.Component, with_members: bool) -> rx.Component:
    """Three columns on a desktop, stacked on a phone."""
    return rx.flex(
        rx.box(
            sidebar(),
            width=["100%", "100%", "260px"],
            flex_shrink="0",
            border_right=f"1px solid {rx.color('gray', 5)}",
            background=rx.color("gray", 2),
            max_height=["40dvh", "40dvh", "100dvh"],
            overflow_y="auto",
        ),
        rx.vstack(
            reconnecting_banner(),
            degraded_banner(),
            notice_banner(),
            main,
            flex="1",
            min_width="0",
            height=["auto", "auto", "100dvh"],
            spacing="0",
        ),
        rx.cond(
            with_members,
            rx.box(
                members_panel(),
                width=["100%", "100%", "240px"],
                flex_shrink="0",
                border_left=f"1px solid {rx.color('gray', 5)}",
                overflow_y="auto",
                max_height=["none", "none", "100dvh"],
            ),
        ),
        direction=rx.breakpoints(initial="column", md="row"),
        min_height="100dvh",
        width="100%",
    )


__all__ = ["empty_room_placeholder", "room_view", "routes", "shell"]
