"""Authorization matrix: every public handler of every State, called by someone who must not.

The handlers are enumerated from the State classes themselves
(``event_handlers`` of every ``rx.State`` subclass defined in
``blabber/state/``), so a handler added later without an entry in ``MATRIX``
fails :func:`test_matrix_covers_every_handler` until someone decides what
hostile calls it must survive.

Roles, each a real client speaking Reflex's websocket protocol:

* ``logged_out``: never signed in;
* ``non_member``: signed in, not in the room;
* ``kicked``: was a member, removed and banned by the admin;
* ``non_admin``: a current member, for the admin actions (kick, unban);
* ``stale_no_hydrate``: a member whose socket closed, kicked while away, who
  reopens a socket with the same tab token, without the session cookie, and
  sends events without the browser's hydrate;
* ``stale_proven``: the same, but with their own (valid) session cookie in
  the handshake, still without a page load: the server's memory of the tab
  (open room, room list) must grant nothing;
* ``blanked_restored``: a connected member whose tab opens one socket without
  the cookie (one event: the hub drops the tab), is kicked, then opens one
  with the cookie again, without a page load;
* ``borrowed_token``: a stranger who read a current member's tab token (it
  travels in the websocket URL) and opens a socket with it after the
  member's socket closed, without the member's cookie.

Each role calls each handler with crafted arguments (the room's name and
internal id, other users' ids, forged field names, wrong types). Afterwards:
the database is exactly as before (apart from the caller's own session and
rows that grant nothing: read marks, presence, failed-login counters), the
caller received none of the room's secrets, and no member was shown the
caller typing.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from blabber.services import conversations
from tests.security.conftest import tab, uniq
from tests.support.appserver import AppServer
from tests.support.reflex_client import (
    ADMIN,
    AUTH,
    CHAT,
    COMPOSER,
    FEED,
    MESSAGE_ACTIONS,
    PEOPLE,
    ROOM,
    ReflexClient,
)

SECRET = "the launch code is 0000"
DM_SECRET = "just between alice and carol"
AFTER_CALLS = "new plans after the calls"
INTRUDER = "intruder was here"
STALE = ("stale_no_hydrate", "stale_proven", "blanked_restored")
ROLES = ("logged_out", "non_member", "kicked", "non_admin", *STALE, "borrowed_token")
FORMER_MEMBERS = ("kicked", *STALE)  # saw the secret before they were removed
# Callers whose socket carries no session cookie (the other stale tabs carry their
# own, valid one: they are signed in as themselves): they may be given real names.
NOT_SIGNED_IN = ("logged_out", "stale_no_hydrate", "borrowed_token")
# Last: they end the caller's own session (the one change they may make), after
# which every handler would be refused before its own checks.
ENDS_SESSION = {("AccountState", "log_out_everywhere"), ("AccountState", "delete_account")}
# What the current member (``non_admin``) calls: the admin's actions, and
# changes of a message that is not theirs (alice's secret).
ADMIN_ONLY = {
    ("AdminState", "kick"),
    ("AdminState", "unban"),
    ("AdminState", "set_everyone_mentions"),
    ("AdminState", "set_add_people"),
    ("RoomSettingsState", "save_room_settings"),
    ("RoomSettingsState", "delete_room"),
    ("MessageActionsState", "start_edit"),
    ("MessageActionsState", "save_edit"),
    ("MessageActionsState", "delete_message"),
}

# A crafted call: (path the client claims to be on, payload). ``ctx`` holds the
# room's name and id and the ids of alice (admin), carol (member), bob (banned).
Call = tuple[str | None, dict[str, Any]]
Calls = Callable[[dict[str, Any], str], list[Call]]


def _targets(key: str) -> Calls:
    """kick/unban aimed at everyone, in every shape an id can be sent."""
    return lambda c, _r: [
        (None, {key: c["alice_id"]}),
        (None, {key: str(c["carol_id"])}),
        (None, {key: c["bob_id"]}),
        (None, {key: -1}),
        (None, {key: [c["alice_id"]]}),
        (None, {key: c["alice_id"], "room_id": c["room_id"]}),
    ]


def _setvar(*names: str) -> Calls:
    return lambda c, _r: (
        [(None, {"var_name": n, "value": c["alice"]}) for n in names]
        + [
            (None, {"var_name": "_room_id", "value": c["room_id"]}),
            (None, {"var_name": "_user_id", "value": c["alice_id"]}),
        ]
    )


def _no_args(_c: dict, _r: str) -> list[Call]:
    return [(None, {}), (None, {"room_id": 1, "user_id": 1})]


def _join(c: dict, role: str) -> list[Call]:
    # Joining by exact name is how anyone joins a room, so a non-member is
    # only given crafted forms; the others must be refused the real name.
    forged = {"room_name": "", "room_id": c["room_id"], "user_id": c["alice_id"]}
    calls: list[Call] = [(None, {"form_data": forged}), (None, {"form_data": "nonsense"})]
    if role in ("logged_out", "kicked"):
        calls += [(None, {"form_data": {"room_name": n}}) for n in (c["room"], c["room"].upper())]
    return calls


def _message_ids(c: dict, _r: str) -> list[Call]:
    """Aimed at alice's secret message, in every shape an id can be sent (the real id last,
    so ``start_edit`` leaves it as the message a following ``save_edit`` would change)."""
    return [
        (None, {"message_id": [c["secret_id"]]}),
        (None, {"message_id": -1}),
        (None, {"message_id": c["secret_id"], "user_id": c["alice_id"]}),
        (None, {"message_id": str(c["secret_id"])}),
        (None, {"message_id": c["secret_id"]}),
    ]


def _reactions(c: dict, _r: str) -> list[Call]:
    return [
        (None, {"message_id": c["secret_id"], "emoji": "👍"}),
        (None, {"message_id": str(c["secret_id"]), "emoji": "🎉"}),
        (None, {"message_id": c["secret_id"], "emoji": "<img src=x onerror=alert(1)>"}),
        (None, {"message_id": c["secret_id"], "emoji": ["👍"]}),
    ]


def _edits(c: dict, _r: str) -> list[Call]:
    return [
        (None, {"form_data": {"body": INTRUDER}}),
        (None, {"form_data": {"body": INTRUDER, "message_id": c["secret_id"]}}),
        (None, {"form_data": "nonsense"}),
    ]


def _people(key: str) -> Calls:
    """A person to search for, pick or message: real names only for callers not signed in.

    Anyone signed in may find and message anyone (that is the feature); the
    others must get nothing, whatever they send.
    """

    def calls(c: dict, role: str) -> list[Call]:
        crafted: list[Call] = [
            (None, {key: "zz-nobody-zz"}),
            (None, {key: [c["alice"]]}),
            (None, {key: {"username": c["alice"]}}),
            (None, {key: "x" * 100_000}),
            (None, {key: c["dm_key"]}),
        ]
        if role in NOT_SIGNED_IN:
            crafted += [(None, {key: c["alice"]}), (None, {key: c["carol"][:6]})]
        return crafted

    return calls


def _passwords(form: Callable[[str], dict]) -> Calls:
    """A form asking for a password: the real one (every tab's is ``password123``) only
    from callers who hold no session; a signed-in caller acting on their own account
    with the right password is the feature, so they get wrong ones."""

    def calls(c: dict, role: str) -> list[Call]:
        crafted: list[Call] = [
            (None, {"form_data": form("not the password")}),
            (None, {"form_data": {**form("not the password"), "user_id": c["alice_id"]}}),
            (None, {"form_data": "nonsense"}),
        ]
        if role in NOT_SIGNED_IN:
            crafted.append((None, {"form_data": form("password123")}))
        return crafted

    return calls


def _listed_ids(c: dict, role: str) -> list[Call]:
    """A directory row's id: the public room's real one only for callers who may not join."""
    calls: list[Call] = [
        (None, {"room_id": -1}),
        (None, {"room_id": [c["room_id"]]}),
        (None, {"room_id": c["dm_id"]}),  # never listed
        (None, {"room_id": str(c["room_id"])}),
    ]
    if role in (*NOT_SIGNED_IN, "kicked"):
        calls.append((None, {"room_id": c["room_id"]}))
    return calls


def _create_forms(c: dict, role: str) -> list[Call]:
    """``Create room``: a valid form only from callers without a session; others get bad ones."""
    calls: list[Call] = [
        (None, {"form_data": {"name": "bad~name"}}),
        (None, {"form_data": {"name": c["room"]}}),  # taken
        (None, {"form_data": {"name": uniq("wordy"), "topic": "x" * 300}}),
        (None, {"form_data": "nonsense"}),
    ]
    if role in NOT_SIGNED_IN:
        calls.append((None, {"form_data": {"name": uniq("mine"), "private": "on"}}))
    return calls


def _profile_forms(c: dict, role: str) -> list[Call]:
    """``Save profile``: a valid form (with alice's id) only from callers without a session."""
    calls: list[Call] = [
        (None, {"form_data": {"display_name": "x" * 60}}),
        (None, {"form_data": {"display_name": INTRUDER, "clear_after": "forever"}}),
        (None, {"form_data": "nonsense"}),
    ]
    if role in NOT_SIGNED_IN:
        form = {"display_name": INTRUDER, "about": INTRUDER, "user_id": c["alice_id"]}
        calls.append((None, {"form_data": form}))
    return calls


def _levels(c: dict, _r: str) -> list[Call]:
    """``Notifications`` for the room and the conversation, claimed by path and payload."""
    return [
        (f"/rooms/{c['room']}", {"level": "nothing"}),
        (f"/dm/{c['dm_id']}", {"level": "mentions"}),
        (None, {"level": "nothing", "room_id": c["room_id"]}),
        (None, {"level": "loud"}),
        (None, {"level": ["nothing"]}),
    ]


MATRIX: dict[tuple[str, str], Calls] = {
    ("SidebarState", "open_home"): _no_args,
    ("RoomState", "open_room"): lambda c, _r: [
        (f"/rooms/{c['room']}", {}),
        (f"/rooms/{c['room'].upper()}", {}),
        (f"/rooms/{c['room_id']}", {}),
        (f"/rooms/{c['room']}", {"room_id": c["room_id"]}),
        # alice and carol's conversation, by its URL in every spelling, and by its key.
        (f"/dm/{c['dm_id']}", {}),
        (f"/dm/{c['dm_id']}?message={c['dm_secret_id']}", {}),
        (f"/dm/0{c['dm_id']}/", {}),
        (f"/rooms/{c['dm_key']}", {}),
        (f"/dm/{c['dm_id']}", {"room_id": c["dm_id"]}),
    ],
    ("SidebarState", "join_room"): _join,
    ("RoomState", "load_older"): _no_args,
    ("RoomState", "jump_to_latest"): _no_args,
    ("ComposerState", "send"): lambda c, _r: [
        (
            f"/rooms/{c['room']}",
            {
                "form_data": {
                    "body": INTRUDER,
                    "client_id": uuid.uuid4().hex,
                    "room_id": c["room_id"],
                    "room_name": c["room"],
                    "user_id": c["alice_id"],
                }
            },
        ),
        (None, {"form_data": ["not", "a", "form"]}),
        # Files: ids that are not the caller's uploads (or garbage) attach nothing.
        (
            f"/rooms/{c['room']}",
            {"form_data": {"body": "", "client_id": uuid.uuid4().hex, "attachment_ids": "1,2"}},
        ),
        (None, {"form_data": {"body": INTRUDER, "attachment_ids": ["1"]}}),
    ],
    ("ComposerState", "typing"): _no_args,
    ("RoomState", "leave_room"): _no_args,
    ("AdminState", "kick"): _targets("user_id"),
    ("AdminState", "unban"): _targets("user_id"),
    ("AdminState", "set_everyone_mentions"): lambda c, _r: [
        (f"/rooms/{c['room']}", {"admin_only": True}),
        (None, {"admin_only": True, "room_id": c["room_id"]}),
        (None, {"admin_only": "yes"}),
    ],
    ("SidebarState", "dismiss_notice"): _no_args,
    ("ChatState", "resume"): lambda c, _r: [
        (f"/rooms/{c['room']}", {"stored_token": "forged-" + uuid.uuid4().hex}),
        (f"/rooms/{c['room']}", {"stored_token": {"user_id": c["alice_id"]}}),
        (None, {"stored_token": ""}),
    ],
    ("ChatState", "setvar"): _setvar("room_name", "is_admin", "members"),
    ("SidebarState", "setvar"): _setvar("rooms", "notice", "room_name"),
    ("RoomState", "setvar"): _setvar("messages", "show_from_id", "room_name"),
    ("ComposerState", "setvar"): _setvar("draft_id", "reply_to_id", "reply_excerpt", "room_name"),
    ("AdminState", "setvar"): _setvar("is_admin", "bans", "room_name"),
    ("MessageActionsState", "start_edit"): _message_ids,
    ("MessageActionsState", "save_edit"): _edits,
    ("MessageActionsState", "cancel_edit"): _no_args,
    ("MessageActionsState", "delete_message"): _message_ids,
    ("MessageActionsState", "toggle_reaction"): _reactions,
    ("MessageActionsState", "setvar"): _setvar("editing_id", "action_error", "room_name"),
    ("MessageActionsState", "edit_last"): _no_args,
    ("MessageActionsState", "search_emoji"): lambda _c, _r: [
        (None, {"query": "thumbs"}),
        (None, {"query": ["x"] * 1000}),
        (None, {"query": "x" * 100_000}),
    ],
    # Replying quotes the original (its author and first line): a secret, for a non-member.
    ("ComposerState", "start_reply"): _message_ids,
    ("ComposerState", "cancel_reply"): _no_args,
    # A reply's quote or a permalink shows the original in its context.
    ("RoomState", "show_message"): _message_ids,
    # Starting conversations: finding people, picking them, opening one.
    ("PeopleState", "search_people"): _people("query"),
    ("PeopleState", "pick"): _people("username"),
    ("PeopleState", "unpick"): _people("username"),
    ("PeopleState", "reset_picker"): _no_args,
    ("PeopleState", "enter_in_search"): lambda _c, _r: [
        (None, {"form_data": {}}),
        (None, {"form_data": "nonsense"}),
    ],
    ("PeopleState", "open_picked"): _no_args,
    ("PeopleState", "message_user"): _people("username"),
    ("PeopleState", "setvar"): _setvar("picked", "matches", "query"),
    # The composer's @ suggestions: who is in the room, so members only.
    # Browse rooms / Create room: listing and joining public rooms, and creating
    # rooms, are for anyone signed in; they get crafted calls, the others real ones.
    # Search: the service's membership join decides what anyone finds; the
    # secret's own words, the room by name, the DM's words, and crafted shapes.
    # (A name typed by the caller comes back in the panel's title: alice's only
    # to callers who may see her name anyway.)
    ("SearchState", "search_messages"): lambda c, role: [
        (None, {"form_data": {"query": "launch code"}}),
        (None, {"form_data": {"query": f"launch in:{c['room']}"}}),
        (None, {"form_data": {"query": "between carol"}}),
        *(
            []
            if role in ("logged_out", "non_member")
            else [(None, {"form_data": {"query": f"from:{c['alice']}", "user_id": 1}})]
        ),
        (None, {"form_data": {"query": ["launch"]}}),
        (None, {"form_data": "launch"}),
    ],
    ("SearchState", "order_results"): lambda _c, _r: [
        (None, {"order": "best"}),
        (None, {"order": "m.id; DROP TABLE messages"}),
    ],
    ("SearchState", "more_search_results"): _no_args,
    ("SearchState", "show_search"): lambda _c, _r: [(None, {"open_": True}), (None, {})],
    ("SearchState", "setvar"): _setvar("search_query", "search_hits", "_cursor"),
    ("DirectoryState", "show_directory"): lambda _c, _r: [(None, {"open_": True})],
    ("DirectoryState", "filter_directory"): lambda c, _r: [
        (None, {"query": c["room"]}),
        (None, {"query": ["x"]}),
        (None, {"query": "x" * 100_000}),
    ],
    ("DirectoryState", "join_listed"): _listed_ids,
    ("DirectoryState", "show_create"): lambda _c, _r: [(None, {"open_": True})],
    ("DirectoryState", "create_room"): _create_forms,
    ("DirectoryState", "setvar"): _setvar("listed", "directory_open", "room_name"),
    # Add people: into the open room, for its members (and its admin's rule).
    ("PeopleState", "show_adding"): lambda _c, _r: [(None, {"open_": True})],
    ("PeopleState", "add_picked"): lambda c, _r: [
        (f"/rooms/{c['room']}", {}),
        (None, {"usernames": [c["carol"]], "room_id": c["room_id"]}),
    ],
    ("AdminState", "set_add_people"): lambda c, _r: [
        (f"/rooms/{c['room']}", {"admin_only": True}),
        (None, {"admin_only": True, "room_id": c["room_id"]}),
        (None, {"admin_only": "yes"}),
    ],
    # Room settings: the admin's. Every caller here is refused, whatever it names.
    ("RoomSettingsState", "show_settings"): lambda _c, _r: [(None, {"open_": True})],
    ("RoomSettingsState", "save_room_settings"): lambda c, _r: [
        (
            f"/rooms/{c['room']}",
            {"form_data": {"name": "taken-over", "topic": INTRUDER, "private": "on"}},
        ),
        (None, {"form_data": {"name": c["room"], "room_id": c["room_id"], "private": "on"}}),
        (f"/dm/{c['dm_id']}", {"form_data": {"name": "ours", "topic": INTRUDER}}),
        (None, {"form_data": "nonsense"}),
    ],
    ("RoomSettingsState", "delete_room"): lambda c, _r: [
        (f"/rooms/{c['room']}", {}),
        (None, {"room_id": c["room_id"]}),
        (f"/dm/{c['dm_id']}", {}),
    ],
    ("RoomSettingsState", "ask_delete"): lambda _c, _r: [(None, {"ask": True})],
    ("RoomSettingsState", "setvar"): _setvar("settings_open", "settings_error", "room_name"),
    # Profiles: anyone signed in may read any card and edit their own profile;
    # callers without a session get real calls, the others crafted ones.
    ("ProfileState", "show_card"): lambda c, role: [
        (None, {"username": "zz-nobody-zz", "open_": True}),
        (None, {"username": ["x"], "open_": True}),
        (None, {"username": "x" * 100_000, "open_": True}),
        *([(None, {"username": c["alice"], "open_": True})] if role in NOT_SIGNED_IN else []),
    ],
    ("ProfileState", "load_my_profile"): lambda c, _r: [(None, {"user_id": c["alice_id"]})],
    ("ProfileState", "save_profile"): _profile_forms,
    ("ProfileState", "remember_time_zone"): lambda _c, role: [
        (None, {"time_zone": "Mars/Olympus"}),
        (None, {"time_zone": ["UTC"]}),
        *([(None, {"time_zone": "Europe/Paris"})] if role in NOT_SIGNED_IN else []),
    ],
    ("ProfileState", "setvar"): _setvar("card", "my_display_name", "room_name"),
    # Profile pictures: I can only remove my own (the callers have none); reading is mine only.
    ("AvatarState", "load_my_avatar"): lambda c, _r: [(None, {"user_id": c["alice_id"]})],
    ("AvatarState", "remove_picture"): lambda c, _r: [(None, {"user_id": c["alice_id"]})],
    ("AvatarState", "setvar"): _setvar("my_avatar", "room_name"),
    # /admin: site admins only, and no caller here is one. Real targets, valid forms.
    ("SiteAdminState", "open_admin"): _no_args,
    ("SiteAdminState", "filter_people"): lambda c, role: [
        (None, {"query": "zz-nobody-zz"}),
        (None, {"query": ["x"]}),
        *([(None, {"query": c["alice"]})] if role in NOT_SIGNED_IN else []),
    ],
    ("SiteAdminState", "set_active"): lambda c, _r: [
        (None, {"user_id": c["alice_id"], "active": False}),
        (None, {"user_id": c["bob_id"], "active": True}),
        (None, {"user_id": str(c["alice_id"]), "active": "no"}),
    ],
    ("SiteAdminState", "promote"): lambda c, _r: [
        (None, {"user_id": c["carol_id"]}),
        (None, {"user_id": [c["carol_id"]]}),
    ],
    ("SiteAdminState", "create_invite"): lambda _c, _r: [
        (None, {"form_data": {"expires_after": "never", "max_uses": "1000"}}),
        (None, {"form_data": "nonsense"}),
    ],
    ("SiteAdminState", "revoke_invite"): lambda _c, _r: [
        (None, {"invite_id": 1}),
        (None, {"invite_id": "1"}),
    ],
    ("SiteAdminState", "setvar"): _setvar("people", "invite_list", "new_invite_link"),
    ("MentionSuggestionsState", "suggest_mentions"): lambda c, _r: [
        (f"/rooms/{c['room']}", {"prefix": ""}),
        (f"/dm/{c['dm_id']}", {"prefix": c["carol"][:2]}),
        (None, {"prefix": c["carol"][:2], "room_id": c["room_id"]}),
        (None, {"prefix": ["x"]}),
        (None, {"prefix": "x" * 100_000}),
    ],
    ("MentionSuggestionsState", "close_mentions"): _no_args,
    ("MentionSuggestionsState", "setvar"): _setvar("mention_options", "room_name"),
    ("NotificationsState", "set_level"): _levels,
    ("NotificationsState", "setvar"): _setvar("level", "room_name"),
    # My account: real passwords (the fixture's) only from callers without a session.
    ("AccountState", "open_settings"): _no_args,
    ("AccountState", "change_password"): _passwords(
        lambda pw: {
            "current_password": pw,
            "new_password": "brand new pw",
            "confirm_password": "brand new pw",
        }
    ),
    ("AccountState", "log_out_everywhere"): lambda c, _r: [(None, {"user_id": c["alice_id"]})],
    ("AccountState", "delete_account"): _passwords(lambda pw: {"delete_password": pw}),
    ("AccountState", "setvar"): _setvar("password_done", "account_error", "room_name"),
    ("AuthState", "require_login"): _no_args,
    ("AuthState", "skip_if_signed_in"): _no_args,
    ("AuthState", "log_out_answered"): lambda c, _r: [
        (None, {"logged_out": False}),
        (None, {"logged_out": "true", "user_id": c["alice_id"]}),
        (None, {}),
    ],
    ("AuthState", "setvar"): _setvar("username", "signed_in"),
    ("FeedState", "setvar"): _setvar("room", "recent", "tail", "members"),
}


def state_handlers() -> dict[tuple[str, str], str]:
    """``(class name, handler) -> event name`` for every State in blabber/state/."""
    import reflex as rx

    import blabber.state

    for module in pkgutil.iter_modules(blabber.state.__path__):
        importlib.import_module(f"blabber.state.{module.name}")
    found: dict[tuple[str, str], str] = {}
    stack: list[type[rx.State]] = [rx.State]
    while stack:
        cls = stack.pop()
        stack.extend(cls.get_substates())
        if cls.__module__.startswith("blabber.state."):
            for name in cls.event_handlers:
                found[(cls.__name__, name)] = f"{cls.get_full_name()}.{name}"
    return found


def test_matrix_covers_every_handler():
    handlers = set(state_handlers())
    enumerated = {("AdminState", "kick"), ("AuthState", "skip_if_signed_in")}
    assert enumerated <= handlers  # enumeration works
    missing = sorted(handlers - set(MATRIX))
    assert missing == [], f"add hostile calls for these handlers to MATRIX: {missing}"
    assert sorted(set(MATRIX) - handlers) == [], "MATRIX names handlers that no longer exist"


# -- the running app ----------------------------------------------------------------
# Rows that grant nothing are left out: read marks (move by themselves), presence
# and failed-login counters (written by refused attempts, by design).
TABLES = {
    "users": "*",
    "rooms": "*",  # everyone_mentions_admin_only too
    "memberships": "id, room_id, user_id, role, joined_at, notify_level",
    "messages": "*",
    "room_bans": "*",
    "auth_sessions": "*",
    "reactions": "*",
    "mentions": "*",
    "room_aliases": "*",
    "invites": "*",
    "attachments": "*",
}


def snapshot(engine: sa.Engine, caller_id: int | None) -> dict[str, list]:
    """Every row that matters, except the caller's own sessions (log_out ends one)."""
    with engine.connect() as conn:
        rows = {
            t: sorted(map(tuple, conn.execute(sa.text(f"SELECT {cols} FROM {t}")).all()), key=repr)
            for t, cols in TABLES.items()
        }
        mine = conn.execute(
            sa.text("SELECT token_hash FROM auth_sessions WHERE user_id = :u"), {"u": caller_id}
        ).scalars()
        own = set(mine)
    rows["auth_sessions"] = [r for r in rows["auth_sessions"] if not own & set(map(str, r))]
    return rows


def room_ids_in(payload: Any) -> set[int]:
    """Room ids anywhere in a payload: ``room_id`` fields and room summaries' ``id``."""
    found: set[int] = set()
    if isinstance(payload, dict):
        if isinstance(payload.get("room_id"), int):
            found.add(payload["room_id"])
        if {"id", "name", "unread"} <= payload.keys() and isinstance(payload["id"], int):
            found.add(payload["id"])
        for value in payload.values():
            found |= room_ids_in(value)
    elif isinstance(payload, list):
        for value in payload:
            found |= room_ids_in(value)
    return found


def ids_from_db(engine: sa.Engine, table: str, column: str, names: list[str]) -> list[int]:
    """Internal ids, read from the database (not from any client's state)."""
    with engine.connect() as conn:
        rows = {
            name: id_ for name, id_ in conn.execute(sa.text(f"SELECT {column}, id FROM {table}"))
        }
    return [rows[n] for n in names]


@pytest.fixture
async def room(backend: AppServer, backend_db, clients: list[ReflexClient]) -> dict[str, Any]:
    """alice (admin) and carol (member) in a room with a secret; bob kicked from it."""
    alice, bob, carol = [await tab(backend, clients) for _ in range(3)]
    ctx: dict[str, Any] = {"alice": uniq("alice"), "bob": uniq("bob"), "carol": uniq("carol")}
    ctx["room"] = uniq("vault")
    for client, name in ((alice, ctx["alice"]), (bob, ctx["bob"]), (carol, ctx["carol"])):
        await client.sign_up(name)
        await client.join(ctx["room"])
    await alice.call(COMPOSER, "send", form_data={"body": SECRET, "client_id": uniq("c")})
    await carol.wait_for(lambda: SECRET in carol.bodies())
    who = ("alice", "bob", "carol")
    ids = ids_from_db(backend_db, "users", "username", [ctx[w] for w in who])
    ctx.update({f"{w}_id": i for w, i in zip(who, ids, strict=True)})
    (ctx["room_id"],) = ids_from_db(backend_db, "rooms", "name", [ctx["room"]])
    (ctx["secret_id"],) = ids_from_db(backend_db, "messages", "body", [SECRET])
    await alice.call(ADMIN, "kick", user_id=ctx["bob_id"])
    await bob.wait_for(lambda: "removed" in (bob.var(CHAT, "notice") or ""))
    # alice and carol's conversation, with a secret of its own; then alice is back in the room.
    ctx["dm_key"] = conversations.direct_key({ctx["alice_id"], ctx["carol_id"]})
    await alice.call(PEOPLE, "message_user", username=ctx["carol"])
    await alice.settle(0.3)
    (ctx["dm_id"],) = ids_from_db(backend_db, "rooms", "name", [ctx["dm_key"]])
    await alice.navigate(f"/dm/{ctx['dm_id']}")
    await alice.wait_for(lambda: alice.var(CHAT, "room_kind") == "direct")
    await alice.call(COMPOSER, "send", form_data={"body": DM_SECRET, "client_id": uniq("d")})
    await alice.wait_for(lambda: DM_SECRET in alice.bodies())
    (ctx["dm_secret_id"],) = ids_from_db(backend_db, "messages", "body", [DM_SECRET])
    await alice.navigate(f"/rooms/{ctx['room']}")
    await alice.wait_for(lambda: alice.var(CHAT, "room_kind") == "room")
    await alice.settle(0.3)
    ctx.update(alice_client=alice, bob_client=bob, carol_client=carol)
    return ctx


def _listed(alice: ReflexClient, name: str) -> dict | None:
    return next((m for m in alice.var(FEED, "members", []) if m["username"] == name), None)


async def stale_caller(role: str, ctx: dict, backend: AppServer, made: list) -> ReflexClient:
    """A member turned into a stale tab of a kicked member, the way ``role`` says."""
    alice = ctx["alice_client"]
    dan, name = await tab(backend, made), uniq("dan")
    await dan.sign_up(name)
    await dan.join(ctx["room"])
    await alice.wait_for(lambda: (_listed(alice, name) or {}).get("online", False))
    dan_id = _listed(alice, name)["user_id"]  # type: ignore[index]
    cookie = dan.session_token
    if role == "blanked_restored":
        dan.session_token = ""
        await dan.reopen_without_hydrate()
        await dan.call(ROOM, "jump_to_latest")
        await dan.settle(0.2)
    else:
        await dan.close()  # the server forgets the socket: alice sees dan offline
        await alice.wait_for(lambda: not (_listed(alice, name) or {}).get("online"), timeout=15)
    await alice.call(ADMIN, "kick", user_id=dan_id)
    await alice.wait_for(lambda: _listed(alice, name) is None)
    dan.session_token = "" if role == "stale_no_hydrate" else cookie
    await dan.reopen_without_hydrate()
    ctx["stale_id"] = dan_id
    return dan


async def borrowed_caller(ctx: dict, backend: AppServer, made: list) -> ReflexClient:
    """A socket opened with a member's tab token after the member's own socket closed."""
    alice = ctx["alice_client"]
    vic, name = await tab(backend, made), uniq("vic")
    await vic.sign_up(name)
    await vic.join(ctx["room"])
    await alice.wait_for(lambda: (_listed(alice, name) or {}).get("online", False))
    ctx["stale_id"] = _listed(alice, name)["user_id"]  # type: ignore[index]
    await vic.close()
    await alice.wait_for(lambda: not (_listed(alice, name) or {}).get("online"), timeout=15)
    intruder = ReflexClient(backend.url)
    intruder.token = vic.token
    await intruder.connect(f"/rooms/{ctx['room']}", hydrate=False)
    made.append(intruder)
    return intruder


async def caller_for(role: str, ctx: dict, backend: AppServer, made: list) -> ReflexClient:
    if role == "borrowed_token":
        return await borrowed_caller(ctx, backend, made)
    if role in STALE:
        return await stale_caller(role, ctx, backend, made)
    if role == "logged_out":
        return await tab(backend, made)
    if role == "non_member":
        eve = await tab(backend, made)
        await eve.sign_up(uniq("eve"))
        return eve
    return ctx["bob_client"] if role == "kicked" else ctx["carol_client"]


@pytest.mark.parametrize("role", ROLES)
async def test_every_handler_refuses(role, backend, backend_db, clients, room):
    handlers = state_handlers()
    caller = await caller_for(role, room, backend, clients)
    caller_id = {"kicked": room["bob_id"], "non_admin": room["carol_id"]}.get(role)
    caller_id = room.get("stale_id", caller_id)
    if role == "non_member":
        with backend_db.connect() as conn:
            caller_id = conn.execute(
                sa.text("SELECT id FROM users WHERE username = :n"),
                {"n": caller.var(AUTH, "username")},
            ).scalar_one()
    alice = room["alice_client"]
    mark_caller, mark_alice = len(caller.received), len(alice.deltas)
    before = snapshot(backend_db, caller_id)
    entries = [k for k in MATRIX if role != "non_admin" or k in ADMIN_ONLY]
    # Typing first: a later handler (open_home, load_older...) closes the room the
    # tab's state remembers, after which typing is refused before the service.
    first = ("ComposerState", "typing")
    for key in sorted(entries, key=lambda k: (k != first, k in ENDS_SESSION)):
        for path, payload in MATRIX[key](room, role):
            caller.path = path or caller.path
            await caller.emit_raw(handlers[key], payload)
        await caller.processed()  # every crafted call of this handler has been handled
    assert snapshot(backend_db, caller_id) == before

    # Positive control: a message after all the calls reaches alice, so what the
    # calls set in motion (a typing notice, a feed the caller got into) reached
    # her first; and once the caller's socket is flushed, it holds all it was sent.
    await alice.call(COMPOSER, "send", form_data={"body": AFTER_CALLS, "client_id": uniq("a")})
    await alice.wait_for(lambda: AFTER_CALLS in alice.bodies())
    await caller.barrier()
    seen = json.dumps(caller.received[mark_caller:])
    assert SECRET not in seen or role in (*FORMER_MEMBERS, "non_admin")
    assert DM_SECRET not in seen or role == "non_admin"  # carol is in the conversation
    assert INTRUDER not in json.dumps(alice.received)
    if role == "borrowed_token":  # the member's name is in their own tab's state: not a leak
        assert room["alice"] not in seen
    if role in ("logged_out", "non_member"):
        for name in (room["alice"], room["carol"]):
            assert name not in seen, f"{role} was shown member {name}"
        assert room["room_id"] not in room_ids_in(caller.received[mark_caller:])
        assert room["dm_id"] not in room_ids_in(caller.received[mark_caller:])
    if role != "non_admin":  # a current member is the one caller who may read it
        assert AFTER_CALLS not in seen
    if role == "non_admin":  # refused with a reason; the ban list stays the admin's
        errors = [d.get(ADMIN, {}).get("admin_error_rx_state_") for d in caller.deltas]
        assert "Only the room's admin can do that" in errors, errors
        refusals = [d.get(MESSAGE_ACTIONS, {}).get("action_error_rx_state_") for d in caller.deltas]
        assert "You can only edit your own messages" in refusals, refusals
        assert "You can only delete your own messages" in refusals, refusals
        assert not any(values.get("bans_rx_state_") for values in caller.state.values())
    # No member was told the caller is typing (typing reaches viewers in
    # FeedState packets), and nobody became alice.
    typing_shown = [d.get(FEED, {}).get("typing_text_rx_state_") for d in alice.deltas[mark_alice:]]
    assert not any(t for t in typing_shown), typing_shown
    assert caller.var(AUTH, "username") != room["alice"]
