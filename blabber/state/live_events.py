"""Live events that change one tab's own state, applied with that state locked.

The worker's live runtime (``blabber.realtime.runtime``) calls the applier
made by :func:`tab_applier` for every tab whose own state an event changes:
an unread badge or mention for another room, presence of the people I
have conversations with, being removed from a room, a session
ended elsewhere, a membership change of mine or in a room I administer,
history trimmed off the feed I paged back from, a change of a message in
my paged history, and the catch-up after a broker outage. The open room's
messages, typing and members do not come here: they are the room's shared
feed.

Each batch loads only the feature states it changes: an unread badge (the
common case: every message in one of my other rooms) loads the sidebar
alone.
"""

from __future__ import annotations

import reflex as rx

from blabber import routes
from blabber.realtime import events as ev
from blabber.realtime.hub import get_hub
from blabber.services.errors import NotAllowed
from blabber.state.admin import AdminState
from blabber.state.auth import AuthState
from blabber.state.chat import ChatState
from blabber.state.notifications import NotificationsState
from blabber.state.room import RoomState
from blabber.state.sidebar import SidebarState


def tab_applier(app: rx.App):
    """``apply_to_tab(token, events)`` for the live runtime: lock the tab's state, apply.

    Returns the frontend events (redirects, toasts) the runtime sends to the
    tab after moving its socket.
    """

    async def apply_to_tab(token: str, batch: list[ev.Event]) -> list:
        cls = states_needed(batch)
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=cls)) as root:
            chat = await root.get_state(ChatState)
            return await apply_live_events(chat, batch)

    return apply_to_tab


def states_needed(batch: list[ev.Event]) -> type[ChatState]:
    """The state to load for a batch: one feature when that is all it changes, else all."""
    kinds = {event.type for event in batch}
    if kinds <= {ev.UNREAD, ev.PRESENCE_CHANGED}:
        return SidebarState
    if kinds <= {ev.FEED_TRIMMED, ev.MESSAGE_CHANGED}:
        return RoomState
    return ChatState  # Reflex loads a state with all its substates


async def apply_live_events(chat: ChatState, batch: list[ev.Event]) -> list:
    """Apply a batch in order; returns the frontend events for the tab."""
    user_id = chat._me_id
    out: list = []
    for event in batch:
        if event.type == ev.SESSION_REVOKED:
            if await _session_ended(chat, event):
                return [rx.redirect(routes.LOGIN)]
        elif not user_id:
            continue
        elif event.type == ev.UNREAD:
            sidebar = await chat.get_state(SidebarState)
            out += sidebar._count_unread(event.data.get("rooms", []))
        elif event.type == ev.PRESENCE_CHANGED:
            sidebar = await chat.get_state(SidebarState)
            sidebar._presence_changed(event.data.get("changes", []))
        elif event.type == ev.USER_REMOVED:
            out += await _removed(chat, event, user_id)
        elif event.type == ev.MEMBERSHIP_CHANGED:
            out += await _membership_changed(chat, event, user_id)
        elif event.type == ev.ROOM_CHANGED:
            out += await _room_changed(chat, event, user_id)
        elif event.type == ev.MESSAGE_CHANGED and event.room_id == chat._room_id:
            (await chat.get_state(RoomState))._apply_change(event.data)
        elif event.type == ev.FEED_TRIMMED and event.room_id == chat._room_id:
            room = await chat.get_state(RoomState)
            room._keep_trimmed(event.data.get("messages", []))
        elif event.type == ev.RESYNC:  # removals may have been missed while the broker was down
            out += await _resync(chat, user_id)
    return out


async def _session_ended(chat: ChatState, event: ev.Event) -> bool:
    """A session was revoked (a log-out somewhere); True when it was this tab's."""
    auth = await chat.get_state(AuthState)
    if not auth._revoked(event.data.get("token_hash", "")):
        return False
    chat._me_id, chat._me_name = 0, ""
    await chat._close_room()
    hub = get_hub()
    if hub is not None:
        hub.forget(chat._token())
    return True


async def _removed(chat: ChatState, event: ev.Event, user_id: int) -> list:
    """An admin removed me from a room: drop it, and leave it if this tab shows it."""
    sidebar = await chat.get_state(SidebarState)
    sidebar._drop_room(
        event.room_id or 0, f"You were removed from {event.data.get('room_name', '')}"
    )
    out: list = []
    if event.room_id == chat._room_id:
        await chat._close_room()
        out.append(rx.redirect(routes.HOME))
    chat._tell_hub_view(user_id, sidebar._room_ids())
    return out


async def _membership_changed(chat: ChatState, event: ev.Event, user_id: int) -> list:
    """My rooms changed (e.g. joined in another tab), or a room I administer changed."""
    sidebar = await chat.get_state(SidebarState)
    out: list = []
    if event.user_id == user_id:
        await sidebar._refresh_rooms(user_id)
        level = sidebar._level_of(chat._room_id)
        if level is not None:  # e.g. ``Notifications`` changed in another tab
            (await chat.get_state(NotificationsState))._room_opened(level)
    if event.room_id == chat._room_id:
        try:
            await (await chat.get_state(AdminState))._refresh(user_id)
        except NotAllowed:
            await chat._close_room()
            out.append(rx.redirect(routes.HOME))
    chat._tell_hub_view(user_id, sidebar._room_ids())
    return out


async def _room_changed(chat: ChatState, event: ev.Event, user_id: int) -> list:
    """A room of mine was renamed, re-topicked, made public/private, or deleted."""
    sidebar = await chat.get_state(SidebarState)
    data = event.data
    out: list = []
    if data.get("deleted"):
        sidebar._drop_room(event.room_id or 0, f"{data.get('room_name', '')} was deleted")
        if event.room_id == chat._room_id:
            await chat._close_room()
            out.append(rx.redirect(routes.HOME))
    else:
        await sidebar._refresh_rooms(user_id)
        if event.room_id == chat._room_id:
            path = routes.room_path(str(data.get("url_name", "")))
            if path != chat.room_path:  # a new URL: reopen the room there
                out.append(rx.redirect(path))
            else:
                chat.room_title = str(data.get("room_name", chat.room_title))
                chat.room_topic = str(data.get("topic", ""))
                chat.room_private = bool(data.get("private"))
    chat._tell_hub_view(user_id, sidebar._room_ids())
    return out


async def _resync(chat: ChatState, user_id: int) -> list:
    """After a broker outage: re-read my rooms and leave the open one if I lost it."""
    sidebar = await chat.get_state(SidebarState)
    await sidebar._refresh_rooms(user_id)
    out: list = []
    if chat._room_id and chat._room_id not in sidebar._room_ids():
        await chat._close_room()
        out.append(rx.redirect(routes.HOME))
    chat._tell_hub_view(user_id, sidebar._room_ids())
    return out
