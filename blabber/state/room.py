"""The open room: opening it, paging its history, leaving it.

The room's newest messages, typing line and Members panel are not here:
they are the room's shared live feed (``FeedState``), sent by the worker to
all viewers at once. This state holds what is this tab's own view of it:
how far back it has paged (``show_from_id`` within the feed, then
``messages`` older than the feed), worked out by
:class:`~blabber.realtime.paging.Paging`.
"""

from __future__ import annotations

import logging
import urllib.parse

import reflex as rx

from blabber import db, routes
from blabber.realtime.feeds import RoomFeed, parse_seen_marker
from blabber.realtime.paging import Paging
from blabber.realtime.runtime import runtime
from blabber.services import conversations, messages, rooms
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from blabber.services.views import MessageView
from blabber.settings import get_settings
from blabber.state.admin import AdminState
from blabber.state.chat import (
    FAILED,
    Caller,
    ChatState,
    scroll_to_message,
    signed_in,
    take_replay_send,
)
from blabber.state.composer import ComposerState
from blabber.state.feed import FeedState
from blabber.state.notifications import NotificationsState
from blabber.state.room_lookup import look_up, not_a_member_notice
from blabber.state.sidebar import SidebarState

log = logging.getLogger(__name__)
PAGED_WINDOW_FACTOR = 4  # paged-in history may hold this many windows
OPEN_DOWN = "Could not open the room right now; try again in a moment"
OLDER_DOWN = "Could not load older messages right now; try again"
LEAVE_DOWN = "Could not leave right now; try again in a moment"
SHOW_DOWN = "Could not show that message right now; try again"
CONTEXT = 25  # a permalink shows this many messages either side of its message


class RoomState(ChatState):
    """Which part of the open room's history this tab shows, and the room's own errors."""

    # History older than the room's live feed, paged in by "Load older messages".
    messages: list[MessageView] = []
    has_older: bool = False  # more history before ``messages[0]``
    # The oldest feed message this tab shows: a room opens with the newest
    # page only, and paging back first reveals the rest of the feed.
    show_from_id: int = 0
    # True after paging so far back that the history no longer reaches the
    # feed: the feed is hidden behind "Jump to latest messages".
    has_newer: bool = False
    loading_room: bool = False
    loading_older: bool = False
    room_error: str = ""
    # The message a permalink or a reply's quote points at, shown highlighted.
    highlight_id: int = 0
    # The first message I had not read when I opened the room ("New messages").
    unread_from_id: int = 0

    _seen_used: str = ""  # the last catch-up cursor acted on (see _load_room)

    def _room_closed(self) -> None:
        self._set_paging(Paging())
        self.room_error = ""
        self.highlight_id = self.unread_from_id = 0

    # -- opening -------------------------------------------------------------
    @rx.event
    @signed_in(page_load=True)
    async def open_room(self, me: Caller):
        """on_load of ``/rooms/<name>`` and ``/dm/<id>``: membership check, then the live feed."""
        path = self.router.url.path
        direct_id = routes.direct_id(path)
        name = urllib.parse.unquote(path.rsplit("/rooms/", 1)[-1]).strip("/")
        previous, previous_path = self.room_name, self.room_path
        await self._close_room()
        if previous and (
            previous.lower() == name.lower() if direct_id is None else previous_path == path
        ):
            # Re-opening the same room (a websocket reconnect re-runs on_load):
            # keep the name, which keys the composer, so an unsent draft survives.
            self.room_name = previous
        self.loading_room = True
        (await self.get_state(ComposerState))._room_opened()
        yield
        sidebar = await self.get_state(SidebarState)
        try:
            room = await look_up(me.user_id, name, direct_id)
        except (NotFound, NotAllowed):
            self.loading_room = False
            notice = not_a_member_notice(name) if direct_id is None else conversations.NOT_FOUND
            await sidebar._show_no_room(me.user_id, notice)
            yield rx.redirect(routes.HOME)
            return
        except Exception:  # database down: say so, keep the tab usable
            self.loading_room = False
            sidebar.notice = OPEN_DOWN
            return
        if direct_id is None and room.name.lower() != name.lower():
            # An old name of a renamed (or now private) room: go to where it lives.
            self.loading_room = False
            yield rx.redirect(room.path)
            return
        self._room_id, self.room_name, self.room_title = room.id, room.name, room.title
        self.room_kind, self.room_path = room.kind, room.path
        self.room_topic, self.room_private = room.topic, room.private
        (await self.get_state(NotificationsState))._room_opened(room.level)
        (await self.get_state(ComposerState))._room_shown(room.id)
        sidebar.notice = ""  # e.g. an earlier "not a member" that no longer applies
        try:
            await self._load_room(me.user_id, sidebar, room.last_read_id)
            # This tab's own view (how far back it shows) reaches the browser
            # before the feed does, so the feed never flashes unfiltered.
            yield
            await self._register(me.user_id, sidebar._room_ids())
            # A new registration (another room or socket) starts without
            # these routing flags; a catch-up may have paged history in.
            self._tell_hub_paging(self._paging())
            (await self.get_state(AdminState))._tell_hub_role()
            await runtime().sync_presence_now()
        except ServiceError as err:
            sidebar.notice = err.message
        except Exception:
            log.exception("opening a room failed")
            sidebar.notice = OPEN_DOWN
        self.loading_room = False
        if self.highlight_id:
            yield scroll_to_message(self.highlight_id)
        if self._room_id and (replay := take_replay_send(self)) is not None:
            yield replay  # the send that found this tab's state lost (ChatState.resume)

    async def _load_room(self, user_id: int, sidebar: SidebarState, last_read: int) -> None:
        feed = await runtime().open_feed(self._room_id, self.room_name)
        paging = Paging()
        paging.open_at_newest(feed.ids(), get_settings().history_page_size)
        self.unread_from_id = _first_unread(feed, last_read)
        # The browser's catch-up cursor arrives with each (re)hydrate. Use each
        # value once: navigating away and back is not a reconnect.
        marker = (await self.get_state(FeedState)).seen
        seen = parse_seen_marker(marker, self._room_id) if marker != self._seen_used else 0
        self._seen_used = marker
        linked = routes.linked_message_id(self.router.url.query_parameters)
        if linked:
            await self._open_at_message(user_id, feed, linked, paging)
        elif seen:
            self._set_paging(paging)
            await self._catch_up(user_id, feed, seen)
        else:
            paging.reveal_from(self.unread_from_id)  # all that is new, when the feed has it
            self._set_paging(paging)
        await (await self.get_state(AdminState))._refresh(user_id)
        await sidebar._refresh_rooms(user_id)

    async def _open_at_message(
        self, user_id: int, feed: RoomFeed, message_id: int, paging: Paging
    ) -> None:
        """Show ``message_id`` highlighted in its context (a permalink, a reply's quote)."""
        try:
            rows, has_older = await db.run_in_session(
                messages.message_context, user_id, self._room_id, message_id, CONTEXT
            )
        except ServiceError as err:  # not in this room; or I am no longer a member
            self.room_error = err.message
            self._set_paging(paging)
            return
        paging.open_around(rows, has_older, feed.ids(), message_id)
        self._set_paging(paging)
        self.highlight_id = message_id

    async def _catch_up(self, user_id: int, feed: RoomFeed, seen: int) -> None:
        """Back after a disconnect: show every message after ``seen``, none twice.

        Within the feed that is only a lower ``show_from_id``; a longer absence
        pages the gap between ``seen`` and the feed from the database (up to
        one page of ``MAX_PAGE``; anything older stays behind "Load older").
        """
        paging = self._paging()
        if not paging.catch_up_in_feed(feed.ids(), seen):
            missed = await db.run_in_session(
                messages.messages_before, user_id, self._room_id, feed.first_id, messages.MAX_PAGE
            )
            paging.take_missed(missed, seen)
        self._set_paging(paging)

    # -- paging --------------------------------------------------------------
    @rx.event
    @signed_in(room=True)
    async def load_older(self, me: Caller):
        """``Load older messages``: reveal more of the feed, then page the database."""
        if not await self._still_member(me):
            return
        settings, paging = get_settings(), self._paging()
        feed = runtime().feed_of(self._room_id)
        if feed is None and not paging.messages:
            return  # the feed is reloading (the room reopens); nothing to page from yet
        ids, feed_older = (feed.ids(), feed.has_older) if feed else ([], True)
        want = paging.reveal_in_feed(ids, feed_older, settings.history_page_size)
        self._set_paging(paging)
        before = paging.messages[0].id if paging.messages else (feed.first_id if feed else 0)
        if not want or not before:
            return
        self.loading_older = True
        yield
        mine, older = (me.user_id, self._room_id), messages.messages_before
        page = await self._call("room_error", OLDER_DOWN, older, *mine, before, want + 1)
        if page is not FAILED:
            bound = settings.message_window * PAGED_WINDOW_FACTOR
            paging.add_older(page, want, len(ids), bound)
            self._set_paging(paging)
        self.loading_older = False

    @rx.event
    @signed_in(room=True)
    async def jump_to_latest(self, me: Caller):
        """Leave deep history and show the newest page of the live feed again."""
        if not await self._still_member(me):
            return
        feed = runtime().feed_of(self._room_id)
        paging = Paging()
        paging.open_at_newest(feed.ids() if feed else [], get_settings().history_page_size)
        self._set_paging(paging)
        self.highlight_id = 0

    @rx.event
    @signed_in(room=True)
    async def show_message(self, me: Caller, message_id: int):
        """A reply's quote: bring its original into view, highlighted.

        Already on the page, it is only scrolled to; otherwise the page
        shows it in its context, read from the database (members only).
        """
        if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id <= 0:
            return
        self.room_error = ""
        paging, feed = self._paging(), runtime().feed_of(self._room_id)
        feed_ids = feed.ids() if feed is not None else []
        on_page = any(m.id == message_id for m in paging.messages) or (
            not paging.has_newer and message_id >= paging.show_from_id and message_id in feed_ids
        )
        if not on_page:
            if feed is None:
                return  # the feed is reloading (the room reopens)
            try:
                await self._open_at_message(me.user_id, feed, message_id, paging)
            except Exception:
                log.warning("showing a message failed", exc_info=True)
                self.room_error = SHOW_DOWN
                return
        if not self.room_error:
            self.highlight_id = message_id
            yield scroll_to_message(message_id)

    async def _still_member(self, me: Caller) -> bool:
        """Whether the caller is a member of the open room now (asked of the database).

        What this tab's state remembers (``_room_id``) may be stale: a kick
        reaches only tabs the hub knew at the time. A caller who is no longer
        a member loses the room view here.
        """
        if await db.run_in_session(rooms.is_member, me.user_id, me.room_id):
            return True
        sidebar = await self.get_state(SidebarState)
        await sidebar._show_no_room(me.user_id, "You are no longer a member of that room")
        return False

    # -- leaving -------------------------------------------------------------
    @rx.event
    @signed_in(room=True)
    async def leave_room(self, me: Caller):
        """Leave the open room (``Leave room``)."""
        left = await self._call("room_error", LEAVE_DOWN, rooms.leave_room, me.user_id, me.room_id)
        if left is FAILED:
            return None
        await (await self.get_state(SidebarState))._show_no_room(me.user_id)
        return rx.redirect(routes.HOME)

    # -- live: the feed dropped messages this tab still shows ---------------------
    def _keep_trimmed(self, trimmed: list[dict]) -> None:
        """The feed dropped its oldest messages: keep them in my paged history (``Paging``)."""
        paging = self._paging()
        bound = get_settings().message_window * PAGED_WINDOW_FACTOR
        paging.keep_trimmed([MessageView.from_dict(m) for m in trimmed], bound)
        self._set_paging(paging)

    def _apply_change(self, row: dict) -> None:
        """A newer version of a message: replace it in my paged history if I hold it.

        Only a newer version (higher ``seq``) replaces an older one, so a
        late or repeated event never undoes a change. The feed's own rows
        are updated by the feed (``changes``).
        """
        view = MessageView.from_dict(row)
        rows = getattr(self.messages, "__wrapped__", self.messages)  # Reflex's MutableProxy
        for i, held in enumerate(rows):
            if held.id == view.id:
                if view.seq > held.seq:
                    self.messages = [*rows[:i], view, *rows[i + 1 :]]
                return

    # -- paging vars <-> Paging ----------------------------------------------------
    def _paging(self) -> Paging:
        """This tab's paging vars as a :class:`Paging` to work on (plain rows, not proxies)."""
        rows = getattr(self.messages, "__wrapped__", self.messages)  # Reflex's MutableProxy
        return Paging(list(rows), self.has_older, self.show_from_id, self.has_newer)

    def _set_paging(self, paging: Paging) -> None:
        """Copy a :class:`Paging` back, assigning only what changed (small deltas).

        Also tells the hub whether this tab now holds history older than the
        feed (a feed roll-over then hands it the trimmed messages).
        """
        if [m.id for m in paging.messages] != [m.id for m in self.messages]:
            self.messages = paging.messages
        if paging.has_older != self.has_older:
            self.has_older = paging.has_older
        if paging.show_from_id != self.show_from_id:
            self.show_from_id = paging.show_from_id
        if paging.has_newer != self.has_newer:
            self.has_newer = paging.has_newer
        self._tell_hub_paging(paging)

    def _tell_hub_paging(self, paging: Paging) -> None:
        """Tell the hub whether this tab holds history older than the feed.

        Such a tab hears of changes of the room's messages (the feed updates
        only its own rows), and, while its history joins the feed, a feed
        roll-over hands it the messages it drops (``room_feeds``). The hub
        keeps the flags across re-registrations of the same room by the same
        socket, so only a change of paging (here) or a new socket
        (``open_room``) sets them.
        """
        if (hub := self._my_hub()) is not None:
            hub.set_history(self._token(), history=bool(paging.messages), paged=paging.paged)


def _first_unread(feed: RoomFeed, last_read: int) -> int:
    """The first feed message after my read mark; 0 if none, or if it is older than the feed."""
    ids = feed.ids()
    if not ids or last_read >= ids[-1] or (last_read < ids[0] - 1 and feed.has_older):
        return 0
    return next(i for i in ids if i > last_read)
