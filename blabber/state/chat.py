"""The chat screen of one tab: my rooms, the open room, its members, the composer.

Handlers are thin: they establish who is calling (``AuthState``), call a
service off the event loop, and copy the result into vars. The open room's
live part (newest messages, typing, members) is the worker's shared room
feed (``FeedState``, sent by ``blabber.realtime.room_feeds``); events that
change this tab's own state arrive through :meth:`ChatState._apply_live_events`,
which the worker's live runtime calls with the state locked (:func:`tab_applier`).

Everything a client can call checks login, and the services check
membership/admin rights in the same transaction as the change.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import urllib.parse
import uuid
from typing import Any

import reflex as rx

from blabber import db, routes
from blabber.realtime import events as ev
from blabber.realtime.feeds import parse_seen_marker
from blabber.realtime.hub import get_hub
from blabber.realtime.paging import Paging
from blabber.realtime.runtime import runtime
from blabber.services import messages, rooms, typing_notices
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from blabber.services.views import BanView, MessageView, RoomSummary
from blabber.settings import get_settings
from blabber.state.auth import SESSION_STORAGE_KEY, AuthState
from blabber.state.feed import FeedState

log = logging.getLogger(__name__)
PAGED_WINDOW_FACTOR = 4  # paged-in history may hold this many windows
FAILED = object()  # what ChatState._call returns when the service refused or failed
# What a user reads when the database is unreachable (a refusal says its own reason).
JOIN_DOWN = "Could not join right now; try again in a moment"
OLDER_DOWN = "Could not load older messages right now; try again"
SEND_DOWN = "Could not send right now; your message is kept, try again"
LEAVE_DOWN = "Could not leave right now; try again in a moment"
ADMIN_DOWN = "Could not do that right now; try again in a moment"


class ChatState(rx.State):
    """Rooms sidebar, open room, paged history, composer, and per-tab live updates.

    The open room's newest messages, typing line and Members panel are not
    here: they are the room's shared live feed (``FeedState``), sent by the
    worker to all viewers at once. This state holds what is this tab's own:
    which room it shows, how far back it has paged (``show_from_id`` within
    the feed, then ``messages`` older than the feed), the composer, the
    sidebar with unread counts, and admin tools.
    """

    rooms: list[RoomSummary] = []
    room_name: str = ""
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
    is_admin: bool = False
    bans: list[BanView] = []
    draft_id: str = ""
    composer_error: str = ""
    sending: bool = False
    join_error: str = ""
    joining: bool = False
    notice: str = ""

    _room_id: int = 0
    _typing_sent_at: float = 0.0
    _me_id: int = 0  # copy of the verified identity, refreshed by every handler
    _me_name: str = ""
    _seen_used: str = ""  # the last catch-up cursor acted on (see _load_room)

    # -- identity ------------------------------------------------------------
    async def _user(self) -> tuple[int, str] | None:
        auth = await self.get_state(AuthState)
        user_id = await auth._current_user_id()
        # Remembered here so live deliveries need not load AuthState: with the
        # Redis state manager every extra substate is another fetch and write.
        self._me_id, self._me_name = (user_id, auth.username) if user_id else (0, "")
        if not user_id:  # expired or revoked: no room feed for this socket any more
            await runtime().follow(self._token())
        return (user_id, auth.username) if user_id else None

    async def _member(self) -> tuple[int, str] | None:
        """The caller, if signed in and a member of the open room now (asked of the database).

        What this tab's state remembers (``_room_id``) may be stale: a kick
        reaches only tabs the hub knew at the time. A caller who is no longer
        a member loses the room view here and gets None.
        """
        user = await self._user()
        if user is None or not self._room_id:
            return None
        if await db.run_in_session(rooms.is_member, user[0], self._room_id):
            return user
        self._leave_view()
        self.notice = "You are no longer a member of that room"
        self.rooms = await self._my_rooms(user[0])
        await self._follow(user[0])
        return None

    async def _call(self, error_var: str, unavailable: str, service, *args: Any) -> Any:
        """Run ``service(session, *args)`` off the event loop; on failure say why in ``error_var``.

        A refusal (``ServiceError``) shows its own message; anything else
        (the database is down) shows ``unavailable``, and the details go to
        the log only. Returns :data:`FAILED` then, so the handler stops with
        the user's input (a draft, a form) untouched.
        """
        try:
            return await db.run_in_session(service, *args)
        except ServiceError as err:
            setattr(self, error_var, err.message)
        except Exception:
            log.warning("%s failed", getattr(service, "__name__", "a service"), exc_info=True)
            setattr(self, error_var, unavailable)
        return FAILED

    def _token(self) -> str:
        return self.router.session.client_token

    def _watch(self, user_id: int) -> None:
        """Register this tab with the hub; only after reading its rooms from the database.

        ``self.rooms`` and ``_room_id`` must be what the database said in this
        handler or in a live event the hub delivered to this registration, so
        a registration never revives access the tab has lost.
        """
        hub = get_hub()
        if hub is not None:
            hub.watch(
                self._token(),
                user_id,
                self._room_id or None,
                [r.id for r in self.rooms],
                sid=self.router.session.session_id,
                is_admin=self.is_admin,
            )
            self._set_paged()

    def _set_paged(self) -> None:
        """Tell the hub whether this tab holds history older than the feed (no re-registration)."""
        hub = get_hub()
        if hub is not None and hub.registered_by(self._token(), self.router.session.session_id):
            hub.set_paged(self._token(), self._paging().paged)

    async def _follow(self, user_id: int) -> None:
        """Register what this tab shows with the hub and move its socket to that feed."""
        self._watch(user_id)
        await runtime().follow(self._token())

    def _leave_view(self) -> None:
        self._room_id = 0
        self.room_name = ""
        self.messages, self.bans = [], []
        self.has_older = self.has_newer = self.is_admin = False
        self.show_from_id = 0
        self.composer_error = ""  # an error about another room's draft

    @rx.event
    async def resume(self, stored_token: str):
        """Carry on after the server lost this tab's state (e.g. Redis restarted).

        The socket stayed open, so no hydrate re-sent the browser's stored
        session and this tab looks logged out. The browser hands its stored
        token back (``_resume_or_log_in``); it is checked exactly as on a page
        load, and the page's own load handler runs again. A missing, wrong or
        revoked token ends at /login like any logged-out tab. The composer is
        not touched, so a draft survives and can be sent again.
        """
        auth = await self.get_state(AuthState)
        if isinstance(stored_token, str) and stored_token:
            auth.auth_token = stored_token[:200]  # presented on this socket
        if await self._user() is None:
            auth.auth_token = ""
            return rx.redirect(routes.LOGIN)
        return ChatState.open_room if "/rooms/" in self.router.url.path else ChatState.open_home

    # -- page loads ----------------------------------------------------------
    @rx.event
    async def open_home(self):
        """on_load of ``/``: the shell with my rooms and no room open."""
        user = await self._user()
        if user is None:
            return _resume_or_log_in()
        self._leave_view()
        self.rooms = await self._my_rooms(user[0])
        await self._follow(user[0])
        return None

    async def _my_rooms(self, user_id: int) -> list[RoomSummary]:
        """The sidebar, after writing the read marks this worker holds (so counts are right)."""
        with contextlib.suppress(Exception):
            await runtime().flush_read_marks()
        return await db.run_in_session(rooms.list_my_rooms, user_id)

    @rx.event
    async def open_room(self):
        """on_load of ``/rooms/<name>``: membership check, then the room's live feed."""
        user = await self._user()
        if user is None:
            yield _resume_or_log_in()
            return
        user_id = user[0]
        name = urllib.parse.unquote(self.router.url.path.rsplit("/rooms/", 1)[-1]).strip("/")
        previous = self.room_name
        self._leave_view()
        if previous and previous.lower() == name.lower():
            # Re-opening the same room (a websocket reconnect re-runs on_load):
            # keep the name, which keys the composer, so an unsent draft survives.
            self.room_name = previous
        self.loading_room = True
        self.draft_id = self.draft_id or uuid.uuid4().hex
        yield
        try:
            room = await db.run_in_session(rooms.room_for_member, user_id, name)
        except (NotFound, NotAllowed):
            self.loading_room = False
            self.notice = _not_a_member_notice(name)
            self.rooms = await self._my_rooms(user_id)
            await self._follow(user_id)
            yield rx.redirect(routes.HOME)
            return
        except Exception:  # database down: say so, keep the tab usable
            self.loading_room = False
            self.notice = "Could not open the room right now; try again in a moment"
            return
        self._room_id, self.room_name = room.id, room.name
        self.notice = ""  # e.g. an earlier "not a member" that no longer applies
        try:
            await self._load_room(user_id)
            # This tab's own view (how far back it shows) reaches the browser
            # before the feed does, so the feed never flashes unfiltered.
            yield
            await self._follow(user_id)
            await _sync_presence_now()
        except ServiceError as err:
            self.notice = err.message
        except Exception:
            log.exception("opening a room failed")
            self.notice = "Could not open the room right now; try again in a moment"
        self.loading_room = False

    async def _load_room(self, user_id: int) -> None:
        room_id = self._room_id
        feed = await runtime().open_feed(room_id, self.room_name)
        paging = Paging()
        paging.open_at_newest(feed.ids(), get_settings().history_page_size)
        self._set_paging(paging)
        # The browser's catch-up cursor arrives with each (re)hydrate. Use each
        # value once: navigating away and back is not a reconnect.
        marker = (await self.get_state(FeedState)).seen
        seen = parse_seen_marker(marker, room_id) if marker != self._seen_used else 0
        self._seen_used = marker
        if seen:
            await self._catch_up(user_id, feed, seen)
        await self._refresh_admin(user_id)
        self.rooms = [
            RoomSummary(id=r.id, name=r.name, unread=0) if r.id == room_id else r
            for r in await self._my_rooms(user_id)
        ]

    async def _catch_up(self, user_id: int, feed, seen: int) -> None:
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

    async def _refresh_admin(self, user_id: int) -> None:
        room_id = self._room_id

        def load(session) -> tuple[bool, list[BanView]]:
            membership = rooms.require_member(session, user_id, room_id)
            admin = membership.role == "admin"
            return admin, rooms.list_bans(session, user_id, room_id) if admin else []

        self.is_admin, self.bans = await db.run_in_session(load)

    # -- actions -------------------------------------------------------------
    @rx.event
    async def join_room(self, form_data: dict):
        """Join (or create) the room named in the form, then open it."""
        self.join_error = ""
        user = await self._user()
        if user is None:
            yield _resume_or_log_in()
            return
        self.joining = True
        yield  # the browser shows "Joining…" while the service runs
        name = str(form_data.get("room_name", "")) if isinstance(form_data, dict) else ""
        room = await self._call("join_error", JOIN_DOWN, rooms.join_room, user[0], name)
        self.joining = False
        if room is not FAILED:
            yield [rx.set_value("room_name_input", ""), rx.redirect(routes.room_path(room.name))]

    @rx.event
    async def load_older(self):
        """``Load older messages``: reveal more of the feed, then page the database."""
        user = await self._member()
        if user is None:
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
        mine, older = (user[0], self._room_id), messages.messages_before
        page = await self._call("composer_error", OLDER_DOWN, older, *mine, before, want + 1)
        if page is not FAILED:
            bound = settings.message_window * PAGED_WINDOW_FACTOR
            paging.add_older(page, want, len(ids), bound)
            self._set_paging(paging)
            self._set_paged()
        self.loading_older = False

    @rx.event
    async def jump_to_latest(self):
        """Leave deep history and show the newest page of the live feed again."""
        if await self._member() is None:
            return
        feed = runtime().feed_of(self._room_id)
        paging = Paging()
        paging.open_at_newest(feed.ids() if feed else [], get_settings().history_page_size)
        self._set_paging(paging)
        self._set_paged()

    @rx.event
    async def send(self, form_data: dict):
        """Send the composer's text. The draft is kept unless the send succeeds."""
        self.composer_error = ""
        user = await self._user()
        if user is None:
            yield _resume_or_log_in()
            return
        body = str(form_data.get("body", ""))
        if not body.strip():
            return
        if not self._room_id:
            self.composer_error = "Open a room first"
            return
        client_id = str(form_data.get("client_id") or self.draft_id or uuid.uuid4().hex)
        self.sending = True
        yield  # the browser shows "Sending…" while the service runs
        mine, send = (user[0], self._room_id), messages.send_message
        view = await self._call("composer_error", SEND_DOWN, send, *mine, body, client_id)
        self.sending = False
        if view is FAILED:
            return  # the draft stays in the composer
        try:
            await runtime().publish_local(view)
        except Exception:  # stored; the broker (or a reload) shows it
            log.exception("showing a stored message while the broker is down failed")
        self.draft_id = uuid.uuid4().hex
        yield rx.set_value("composer", "")

    @rx.event
    async def typing(self):
        """The composer changed (throttled in the browser): tell the room.

        The server throttles too, since a crafted client need not: this tab
        at most once per ``typing_min_gap_seconds`` (no thread hop), and the
        service once per user and room whatever the number of tabs; it also
        checks membership, so a stale tab of a kicked member announces nothing.
        """
        gap = get_settings().typing_min_gap_seconds
        now = time.time()
        if 0 <= now - self._typing_sent_at < gap:
            return
        user = await self._user()
        if user is None or not self._room_id:
            return
        self._typing_sent_at = now
        # Best effort: typing is ephemeral; a refusal or an outage shows nothing.
        with contextlib.suppress(Exception):
            await db.run_in_session(
                typing_notices.announce_typing, user[0], user[1], self._room_id, min_gap=gap
            )

    @rx.event
    async def leave_room(self):
        """Leave the open room (``Leave room``)."""
        user = await self._user()
        if user is None:
            return _resume_or_log_in()
        if not self._room_id:
            return None
        mine = (user[0], self._room_id)
        left = await self._call("composer_error", LEAVE_DOWN, rooms.leave_room, *mine)
        if left is FAILED:
            return None
        self._leave_view()
        self.rooms = await self._my_rooms(user[0])
        await self._follow(user[0])
        return rx.redirect(routes.HOME)

    @rx.event
    async def kick(self, user_id: int):
        """Admin: remove and ban a member of the open room."""
        await self._admin_action(rooms.kick_member, user_id)

    @rx.event
    async def unban(self, user_id: int):
        """Admin: lift a ban in the open room."""
        await self._admin_action(rooms.unban, user_id)

    async def _admin_action(self, action, target: Any) -> None:
        user = await self._user()
        if user is None or not self._room_id:
            return
        if not isinstance(target, int | str) or not str(target).lstrip("-").isdecimal():
            self.composer_error = "That action is not possible"
            return
        mine = (user[0], self._room_id)
        done = await self._call("composer_error", ADMIN_DOWN, action, *mine, int(target))
        if done is not FAILED:
            with contextlib.suppress(Exception):  # the ban list refreshes on the next event
                await self._refresh_admin(user[0])

    @rx.event
    def dismiss_notice(self):
        """Close the notice banner."""
        self.notice = ""

    # -- live updates (called by the hub, state locked) ----------------------
    async def _apply_live_events(self, batch: list[ev.Event]) -> list:
        """Apply the events that change this tab's own state; returns frontend events.

        The open room's messages, typing and members arrive through the room
        feed instead (``blabber.realtime.room_feeds``); what comes here is an unread
        badge for another room, being removed, a session ended elsewhere, a
        membership change of mine or of an admin's room, history trimmed off
        the feed, and the catch-up after a broker outage.
        """
        user_id = self._me_id
        out: list = []
        for event in batch:
            if event.type == ev.SESSION_REVOKED:
                auth = await self.get_state(AuthState)
                if auth._revoked(event.data.get("token_hash", "")):
                    self._me_id, self._me_name = 0, ""
                    self._leave_view()
                    hub = get_hub()
                    if hub is not None:
                        hub.forget(self._token())
                    return [rx.redirect(routes.LOGIN)]
            elif not user_id:
                continue
            elif event.type == ev.UNREAD:
                out += self._count_unread(event.data.get("rooms", []))
            elif event.type == ev.USER_REMOVED:
                out += self._on_removed(event, user_id)
            elif event.type == ev.MEMBERSHIP_CHANGED:
                if event.user_id == user_id:  # my own rooms changed (e.g. in another tab)
                    self.rooms = [
                        RoomSummary(r.id, r.name, 0) if r.id == self._room_id else r
                        for r in await self._my_rooms(user_id)
                    ]
                if event.room_id == self._room_id:
                    try:
                        await self._refresh_admin(user_id)
                    except NotAllowed:
                        self._leave_view()
                        out.append(rx.redirect(routes.HOME))
                self._watch(user_id)
            elif event.type == ev.FEED_TRIMMED and event.room_id == self._room_id:
                self._keep_trimmed(event.data.get("messages", []))
            elif event.type == ev.RESYNC:  # removals may have been missed while the broker was down
                self.rooms = [
                    RoomSummary(r.id, r.name, 0) if r.id == self._room_id else r
                    for r in await self._my_rooms(user_id)
                ]
                if self._room_id and self._room_id not in {r.id for r in self.rooms}:
                    self._leave_view()
                    out.append(rx.redirect(routes.HOME))
                self._watch(user_id)
        return out

    def _keep_trimmed(self, trimmed: list[dict]) -> None:
        """The feed dropped its oldest messages: keep them in my paged history (``Paging``)."""
        paging = self._paging()
        bound = get_settings().message_window * PAGED_WINDOW_FACTOR
        paging.keep_trimmed([MessageView(**m) for m in trimmed], bound)
        self._set_paging(paging)

    def _paging(self) -> Paging:
        """This tab's paging vars as a :class:`Paging` to work on (plain rows, not proxies)."""
        rows = getattr(self.messages, "__wrapped__", self.messages)  # Reflex's MutableProxy
        return Paging(list(rows), self.has_older, self.show_from_id, self.has_newer)

    def _set_paging(self, paging: Paging) -> None:
        """Copy a :class:`Paging` back, assigning only what changed (small deltas)."""
        if [m.id for m in paging.messages] != [m.id for m in self.messages]:
            self.messages = paging.messages
        if paging.has_older != self.has_older:
            self.has_older = paging.has_older
        if paging.show_from_id != self.show_from_id:
            self.show_from_id = paging.show_from_id
        if paging.has_newer != self.has_newer:
            self.has_newer = paging.has_newer

    def _count_unread(self, counts: list[dict]) -> list:
        """New messages in my other rooms: raise the sidebar badges, notify once.

        The hub folds them per room (``events.UNREAD``), without my own and
        without system lines, matching ``list_my_rooms``, so a badge does not
        change on reload. One toast per delivery, naming the newest message.
        """
        mine = {r.id: r for r in self.rooms}
        fresh = [c for c in counts if c.get("room_id") in mine and c["room_id"] != self._room_id]
        if not fresh:
            return []
        added = {c["room_id"]: int(c.get("count", 0)) for c in fresh}
        self.rooms = [RoomSummary(r.id, r.name, r.unread + added.get(r.id, 0)) for r in self.rooms]
        newest = max(fresh, key=lambda c: c.get("last", {}).get("id", 0))
        last = newest.get("last", {})
        room_name = mine[newest["room_id"]].name
        body = f"{last.get('author', '')}: {str(last.get('body', ''))[:120]}"
        return _notify(f"New message in {room_name}", body)

    def _on_removed(self, event: ev.Event, user_id: int) -> list:
        room_name = str(event.data.get("room_name", ""))
        self.rooms = [r for r in self.rooms if r.id != event.room_id]
        out: list = []
        if event.room_id == self._room_id:
            self._leave_view()
            out.append(rx.redirect(routes.HOME))
        self.notice = f"You were removed from {room_name}"
        self._watch(user_id)
        return out


def _not_a_member_notice(name: str) -> str:
    """The answer to opening a room one is not in; echoes the name only if it is a room name.

    The name comes from the URL, which anyone can craft: text that could not
    be a room name is not repeated in the app's own voice.
    """
    try:
        clean = rooms.normalize_room_name(name)
    except ServiceError:
        return "You are not a member of that room. Join it by name first."
    return f"You are not a member of {clean}. Join it by name first."


def tab_applier(app: rx.App):
    """``apply_to_tab(token, events)`` for the live runtime: lock the tab's state, apply.

    Returns the frontend events (redirects, toasts) the runtime sends to the
    tab after moving its socket.
    """

    async def apply_to_tab(token: str, batch: list[ev.Event]) -> list:
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=ChatState)) as state:
            chat = state if isinstance(state, ChatState) else await state.get_state(ChatState)
            return await chat._apply_live_events(batch)

    return apply_to_tab


def _notify(title: str, body: str) -> list:
    """A toast, plus a browser notification when the tab is hidden and allowed.

    Text goes through ``json.dumps`` so user content can never become script.
    """
    script = (
        "if (document.hidden && window.Notification && Notification.permission === 'granted')"
        f" {{ new Notification({json.dumps(title)}, {{body: {json.dumps(body)}}}); }}"
    )
    return [rx.toast.info(title), rx.call_script(script)]


def _resume_or_log_in():
    """What a handler answers a tab without a verified user: try its stored session first."""
    return rx.call_script(
        f"localStorage.getItem({json.dumps(SESSION_STORAGE_KEY)}) || ''", callback=ChatState.resume
    )


async def _sync_presence_now() -> None:
    await runtime().sync_presence_now()
