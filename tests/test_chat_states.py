"""The chat screen's feature states: one identity helper for every action, loads per event.

These check the shape that keeps handlers thin (tests/security holds the
hostile calls against a running app): every public action goes through
:func:`blabber.state.chat.signed_in`, the signature Reflex sees is the
handler's own minus ``me``, and a live batch loads only the feature states
it changes.
"""

from __future__ import annotations

import inspect

import pytest

from blabber.realtime import events as ev
from blabber.state.account import AccountState
from blabber.state.admin import AdminState
from blabber.state.avatar import AvatarState
from blabber.state.chat import ChatState
from blabber.state.composer import ComposerState
from blabber.state.live_events import states_needed
from blabber.state.mention_suggestions import MentionSuggestionsState
from blabber.state.message_actions import MessageActionsState
from blabber.state.notifications import NotificationsState
from blabber.state.people import PeopleState
from blabber.state.profile import ProfileState
from blabber.state.room import RoomState
from blabber.state.room_directory import DirectoryState
from blabber.state.room_settings import RoomSettingsState
from blabber.state.search import SearchState
from blabber.state.sidebar import SidebarState
from blabber.state.site_admin import SiteAdminState

FEATURES = (
    SidebarState,
    RoomState,
    ComposerState,
    AdminState,
    MessageActionsState,
    NotificationsState,
    PeopleState,
    AccountState,
    MentionSuggestionsState,
    DirectoryState,
    RoomSettingsState,
    ProfileState,
    SiteAdminState,
    SearchState,
    AvatarState,
)
# Handlers that need no signed-in caller: Reflex's own setter, closing a
# banner or an editor, and the recovery that establishes the caller itself.
# Handlers that only clear what the tab shows (or read no data) need no caller.
OPEN_TO_ANYONE = {
    "setvar",
    "dismiss_notice",
    "resume",
    "cancel_edit",
    "cancel_reply",
    "search_emoji",
    "unpick",
    "reset_picker",
    "close_mentions",
    "show_create",
    "show_adding",
    "show_settings",
    "ask_delete",
    "show_search",
}


def test_the_chat_screen_is_split_into_these_features():
    assert ChatState.get_substates() == set(FEATURES)


@pytest.mark.parametrize("state", (ChatState, *FEATURES), ids=lambda s: s.__name__)
def test_every_action_goes_through_signed_in(state):
    actions = {n: h for n, h in state.event_handlers.items() if n not in OPEN_TO_ANYONE}
    unguarded = [n for n, h in actions.items() if not getattr(h.fn, "signed_in", False)]
    assert unguarded == []


@pytest.mark.parametrize("state", FEATURES, ids=lambda s: s.__name__)
def test_each_feature_forgets_its_part_of_a_closed_room(state):
    assert "_room_closed" in vars(state)


def test_reflex_sees_the_frontend_arguments_without_me():
    assert list(inspect.signature(ComposerState.send.fn).parameters) == ["self", "form_data"]
    assert list(inspect.signature(RoomState.load_older.fn).parameters) == ["self"]
    kick = AdminState.kick(5)  # as the Kick button binds it
    assert [str(name) for name, _ in kick.args] == ["user_id"]


def test_wrapped_handlers_keep_their_kind_for_reflex():
    """Reflex iterates an async generator and awaits a coroutine; every action is the former."""
    for state in FEATURES:
        for name, handler in state.event_handlers.items():
            if getattr(handler.fn, "signed_in", False):
                assert inspect.isasyncgenfunction(handler.fn), name


def _batch(*kinds: str) -> list[ev.Event]:
    return [ev.Event(type=kind, room_id=1, user_id=1) for kind in kinds]


@pytest.mark.parametrize(
    ("kinds", "loaded"),
    [
        ((ev.UNREAD,), SidebarState),
        ((ev.UNREAD, ev.UNREAD), SidebarState),
        ((ev.FEED_TRIMMED,), RoomState),
        ((ev.MESSAGE_CHANGED, ev.FEED_TRIMMED), RoomState),
        ((ev.UNREAD, ev.FEED_TRIMMED), ChatState),
        ((ev.USER_REMOVED,), ChatState),
        ((ev.MEMBERSHIP_CHANGED,), ChatState),
        ((ev.SESSION_REVOKED,), ChatState),
        ((ev.RESYNC,), ChatState),
    ],
)
def test_a_live_batch_loads_only_the_states_it_changes(kinds, loaded):
    assert states_needed(_batch(*kinds)) is loaded
