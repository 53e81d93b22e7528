"""The chat screen of one tab: my rooms, the open room, its members, the composer.

Handlers are thin: they establish who is calling (``AuthState``), call a
service off the event loop, and copy the result into vars. Live updates
arrive through :meth:`ChatState._apply_live_events`, called by this worker's
hub (``blabber.state.live``) with the state locked.

Everything a client can call checks login, and the services check
membership/admin rights in the same transaction as the change.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
import uuid
from typing import Any

import reflex as rx

from blabber import db, routes
from blabber.realtime import events as ev
from blabber.realtime.hub import get_hub
from blabber.services import messages, presence, rooms, typing
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from blabber.services.views import BanView, MemberView, MessageView, RoomSummary
from blabber.settings import get_settings
from blabber.state.auth import AuthState

log = logging.getLogger(__name__)
TYPING_SECONDS = 4.0
TYPING_MIN_GAP = 1.0
READ_MARK_EVERY = 3.0  # seconds between read-mark writes per tab while messages stream in
PAGED_WINDOW_FACTOR = 4  # paging back may hold this many windows before the newest drop out


def typing_label(names: list[str]) -> str:
    """``alice is typing`` / ``alice and bob are typing`` / ``Several people are typing``."""
    if not names:
        return ""
    if len(names) == 1:
        return f"{names[0]} is typing"
    if len(names) == 2:
        return f"{names[0]} and {names[1]} are typing"
    return "Several people are typing"


class ChatState(rx.State):
    """Rooms sidebar, open room, members, composer and live updates."""

    rooms: list[RoomSummary] = []
    room_name: str = ""
    messages: list[MessageView] = []
    has_older: bool = False
    # True after paging so far back that the newest messages fell out of the
    # bounded window: live messages then wait for "Jump to latest messages".
    has_newer: bool = False
    loading_room: bool = False
    loading_older: bool = False
    members: list[MemberView] = []
    is_admin: bool = False
    bans: list[BanView] = []
    typing_text: str = ""
    draft_id: str = ""
    composer_error: str = ""
    sending: bool = False
    join_error: str = ""
    joining: bool = False
    notice: str = ""

    _room_id: int = 0
    _typing_until: dict[str, float] = {}
    _read_upto: int = 0
    _typing_sent_at: float = 0.0
    _me_id: int = 0  # copy of the verified identity, refreshed by every handler
    _me_name: str = ""
    _paged: bool = False  # the user paged older history in: hold more, trim less
    _read_marked_at: float = 0.0

    # -- identity ------------------------------------------------------------
    async def _user(self) -> tuple[int, str] | None:
        auth = await self.get_state(AuthState)
        user_id = await auth._current_user_id()
        # Remembered here so live deliveries need not load AuthState: with the
        # Redis state manager every extra substate is another fetch and write.
        self._me_id, self._me_name = (user_id, auth.username) if user_id else (0, "")
        return (user_id, auth.username) if user_id else None

    def _token(self) -> str:
        return self.router.session.client_token

    def _watch(self, user_id: int) -> None:
        hub = get_hub()
        if hub is not None:
            hub.watch(self._token(), user_id, self._room_id or None, [r.id for r in self.rooms])

    def _leave_view(self) -> None:
        self._room_id = 0
        self.room_name = ""
        self.messages, self.members, self.bans = [], [], []
        self.has_older = self.has_newer = self.is_admin = self._paged = False
        self._typing_until = {}
        self.typing_text = ""
        self.composer_error = ""  # an error about another room's draft

    # -- page loads ----------------------------------------------------------
    @rx.event
    async def open_home(self):
        """on_load of ``/``: the shell with my rooms and no room open."""
        user = await self._user()
        if user is None:
            return rx.redirect(routes.LOGIN)
        await self._flush_read_mark(user[0])
        self._leave_view()
        self.rooms = await db.run_in_session(rooms.list_my_rooms, user[0])
        self._watch(user[0])
        return None

    @rx.event
    async def open_room(self):
        """on_load of ``/rooms/<name>``: history, members, read mark, live updates."""
        user = await self._user()
        if user is None:
            yield rx.redirect(routes.LOGIN)
            return
        user_id = user[0]
        await self._flush_read_mark(user_id)
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
            self.notice = f"You are not a member of {name}. Join it by name first."
            self.rooms = await db.run_in_session(rooms.list_my_rooms, user_id)
            self._watch(user_id)
            yield rx.redirect(routes.HOME)
            return
        self._room_id, self.room_name = room.id, room.name
        self.notice = ""  # e.g. an earlier "not a member" that no longer applies
        await self._load_room(user_id)
        self.loading_room = False

    async def _load_room(self, user_id: int) -> None:
        settings = get_settings()
        room_id = self._room_id
        self.rooms = await db.run_in_session(rooms.list_my_rooms, user_id)
        self._watch(user_id)
        await _sync_presence_now()
        size = settings.history_page_size
        # One extra row tells whether anything older exists, so a room with
        # exactly one page of history shows no dead "Load older" button.
        page = await db.run_in_session(messages.latest_messages, user_id, room_id, size + 1)
        self.has_older = len(page) > size
        page = page[-size:]
        self.messages = page
        await self._refresh_members(user_id)
        if page:
            await db.run_in_session(messages.mark_read, user_id, room_id, page[-1].id)
            self._read_upto = page[-1].id
        self.rooms = [
            RoomSummary(id=r.id, name=r.name, unread=0) if r.id == room_id else r
            for r in self.rooms
        ]

    async def _refresh_members(self, user_id: int) -> None:
        room_id = self._room_id

        def load(session) -> tuple[list[MemberView], list[BanView]]:
            ids = rooms.member_ids(session, room_id)
            online = presence.online_user_ids(session, ids, get_settings().presence_ttl_seconds)
            members = rooms.list_members(session, user_id, room_id, online)
            me = next((m for m in members if m.user_id == user_id), None)
            bans = rooms.list_bans(session, user_id, room_id) if me and me.role == "admin" else []
            return members, bans

        self.members, self.bans = await db.run_in_session(load)
        self.is_admin = any(m.user_id == user_id and m.role == "admin" for m in self.members)

    # -- actions -------------------------------------------------------------
    @rx.event
    async def join_room(self, form_data: dict):
        """Join (or create) the room named in the form, then open it."""
        self.join_error = ""
        user = await self._user()
        if user is None:
            return rx.redirect(routes.LOGIN)
        self.joining = True
        try:
            room = await db.run_in_session(
                rooms.join_room, user[0], str(form_data.get("room_name", ""))
            )
        except ServiceError as err:
            self.join_error = err.message
            return None
        finally:
            self.joining = False
        return [rx.set_value("room_name_input", ""), rx.redirect(routes.room_path(room.name))]

    @rx.event
    async def load_older(self):
        """Page older history into the window (``Load older messages``)."""
        user = await self._user()
        if user is None or not self._room_id or not self.messages:
            return
        self.loading_older = True
        yield
        try:
            size = get_settings().history_page_size
            page = await db.run_in_session(
                messages.messages_before, user[0], self._room_id, self.messages[0].id, size + 1
            )
        except ServiceError as err:
            self.composer_error = err.message
            size, page = 0, []
        self.has_older = len(page) > size
        self.messages = page[-size:] + self.messages if page else self.messages
        self._paged = True
        window = get_settings().message_window * PAGED_WINDOW_FACTOR
        if len(self.messages) > window:
            # Reading far back: keep the oldest part contiguous, drop the newest.
            self.messages = self.messages[:window]
            self.has_newer = True
        self.loading_older = False

    @rx.event
    async def jump_to_latest(self):
        """Leave deep history and show the newest page again, live."""
        user = await self._user()
        if user is None or not self._room_id:
            return
        size = get_settings().history_page_size
        page = await db.run_in_session(messages.latest_messages, user[0], self._room_id, size + 1)
        self.has_older, self.has_newer, self._paged = len(page) > size, False, False
        self.messages = page[-size:]
        if page:
            self._read_upto = max(self._read_upto, page[-1].id)

    @rx.event
    async def send(self, form_data: dict):
        """Send the composer's text. The draft is kept unless the send succeeds."""
        self.composer_error = ""
        user = await self._user()
        if user is None:
            return rx.redirect(routes.LOGIN)
        body = str(form_data.get("body", ""))
        if not body.strip():
            return None
        if not self._room_id:
            self.composer_error = "Open a room first"
            return None
        client_id = str(form_data.get("client_id") or self.draft_id or uuid.uuid4().hex)
        self.sending = True
        try:
            view = await db.run_in_session(
                messages.send_message, user[0], self._room_id, body, client_id
            )
        except ServiceError as err:
            self.composer_error = err.message
            return None
        except Exception:  # DB down etc.: keep the draft, say so plainly
            self.composer_error = "Could not send right now; your message is kept, try again"
            return None
        finally:
            self.sending = False
        self._merge([view])
        self.draft_id = uuid.uuid4().hex
        return rx.set_value("composer", "")

    @rx.event
    async def typing(self):
        """The composer changed (throttled in the browser): tell the room.

        The server throttles too, since a crafted client need not: at most one
        notice per tab per ``TYPING_MIN_GAP`` seconds reaches the broker.
        """
        now = time.time()
        if 0 <= now - self._typing_sent_at < TYPING_MIN_GAP:
            return
        user = await self._user()
        if user is None or not self._room_id:
            return
        self._typing_sent_at = now
        await typing.announce_typing(user[0], user[1], self._room_id)

    @rx.event
    async def leave_room(self):
        """Leave the open room (``Leave room``)."""
        user = await self._user()
        if user is None:
            return rx.redirect(routes.LOGIN)
        if not self._room_id:
            return None
        try:
            await db.run_in_session(rooms.leave_room, user[0], self._room_id)
        except ServiceError as err:
            self.composer_error = err.message
            return None
        self._leave_view()
        self.rooms = await db.run_in_session(rooms.list_my_rooms, user[0])
        self._watch(user[0])
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
        try:
            await db.run_in_session(action, user[0], self._room_id, int(target))
        except (ServiceError, ValueError, TypeError) as err:
            self.composer_error = getattr(err, "message", "That action is not possible")
            return
        await self._refresh_members(user[0])

    @rx.event
    def dismiss_notice(self):
        """Close the notice banner."""
        self.notice = ""

    # -- live updates (called by the hub, state locked) ----------------------
    async def _apply_live_events(self, batch: list[ev.Event]) -> list:
        """Apply realtime events; returns frontend events (toasts, redirects) to send."""
        user_id = self._me_id
        out: list = []
        for event in batch:
            if event.type == ev.SESSION_REVOKED:
                auth = await self.get_state(AuthState)
                if auth._revoked(event.data.get("token_hash", "")):
                    self._me_id, self._me_name = 0, ""
                    self._leave_view()
                    return [rx.redirect(routes.LOGIN)]
            elif not user_id:
                continue
            elif event.type == ev.MESSAGE_CREATED:
                out += self._on_message(event, self._me_name)
            elif event.type == ev.TYPING:
                self._on_typing(event)
            elif event.type == "typing.expire":
                self._expire_typing()
            elif event.type == ev.PRESENCE_CHANGED:
                status = {c["user_id"]: c["online"] for c in event.data.get("changes", [])}
                if any(m.user_id in status for m in self.members):
                    self.members = [
                        MemberView(m.user_id, m.username, m.role, status.get(m.user_id, m.online))
                        for m in self.members
                    ]
            elif event.type == ev.USER_REMOVED:
                out += await self._on_removed(event, user_id)
            elif event.type == ev.MEMBERSHIP_CHANGED:
                if event.user_id == user_id:  # my own rooms changed (e.g. in another tab)
                    self.rooms = [
                        RoomSummary(r.id, r.name, 0) if r.id == self._room_id else r
                        for r in await db.run_in_session(rooms.list_my_rooms, user_id)
                    ]
                    self._watch(user_id)
                if event.room_id == self._room_id:
                    try:
                        await self._refresh_members(user_id)
                    except NotAllowed:
                        self._leave_view()
                        self._watch(user_id)
                        out.append(rx.redirect(routes.HOME))
            elif event.type == "hub.resync" and self._room_id:
                await self._catch_up(user_id)
        await self._maybe_mark_read(user_id)
        return out

    def _merge(self, views: list[MessageView]) -> None:
        """Insert messages by id, without duplicates, keeping the window bounded.

        While ``has_newer`` the window ends before the newest messages, so
        appending would leave a gap: new messages are left to ``jump_to_latest``.
        """
        if self.has_newer:
            return
        known = {m.id for m in self.messages}
        fresh = [v for v in views if v.id not in known]
        if not fresh:
            return
        merged = self.messages + fresh
        if self.messages and fresh[0].id < self.messages[-1].id:
            merged.sort(key=lambda m: m.id)
        # Every delta re-sends the whole list, so a tab following the room live
        # keeps only the newest window; one reading paged history keeps more.
        window = get_settings().message_window * (PAGED_WINDOW_FACTOR if self._paged else 1)
        if len(merged) > window:
            merged = merged[-window:]
            self.has_older = True
        self.messages = merged

    def _on_message(self, event: ev.Event, my_name: str) -> list:
        """Show a message of the open room, or count it unread in the sidebar.

        Only other people's user messages count, matching ``list_my_rooms``,
        so the badge does not change on reload; my own post from another tab
        is already read by me.
        """
        view = MessageView(**event.data)
        if event.room_id == self._room_id:
            self._merge([view])
            self._read_upto = max(self._read_upto, view.id)
            if view.author and view.author in self._typing_until:
                self._typing_until.pop(view.author, None)
                self.typing_text = typing_label(sorted(self._typing_until))
            return []
        room = next((r for r in self.rooms if r.id == event.room_id), None)
        if room is None or view.kind != "user" or view.author == my_name:
            return []
        self.rooms = [
            RoomSummary(r.id, r.name, r.unread + 1) if r.id == room.id else r for r in self.rooms
        ]
        return _notify(f"New message in {room.name}", f"{view.author}: {view.body[:120]}")

    def _on_typing(self, event: ev.Event) -> None:
        name = str(event.data.get("username", ""))[:32]
        if not name or event.room_id != self._room_id:
            return
        if len(self._typing_until) < 10 or name in self._typing_until:
            self._typing_until[name] = time.time() + TYPING_SECONDS
        self._expire_typing()
        hub = get_hub()
        if hub is not None:
            _schedule_typing_expiry(self._token())

    def _expire_typing(self) -> None:
        now = time.time()
        self._typing_until = {n: t for n, t in self._typing_until.items() if t > now}
        self.typing_text = typing_label(sorted(self._typing_until))

    async def _on_removed(self, event: ev.Event, user_id: int) -> list:
        room_name = str(event.data.get("room_name", ""))
        self.rooms = [r for r in self.rooms if r.id != event.room_id]
        out: list = []
        if event.room_id == self._room_id:
            self._leave_view()
            out.append(rx.redirect(routes.HOME))
        self.notice = f"You were removed from {room_name}"
        self._watch(user_id)
        return out

    async def _catch_up(self, user_id: int) -> None:
        after = self.messages[-1].id if self.messages else 0
        while True:
            page = await db.run_in_session(
                messages.messages_after, user_id, self._room_id, after, 100
            )
            self._merge(page)
            if len(page) < 100:
                break
            after = page[-1].id
        await self._refresh_members(user_id)

    async def _maybe_mark_read(self, user_id: int) -> None:
        """Persist the read mark at most once per ``READ_MARK_EVERY`` per tab.

        The first message of a quiet spell is marked at once; later ones in the
        same spell are marked by one trailing write when the spell's interval
        ends, so the last message seen is always saved (and unread counts after
        a reload are right) without a write per message.
        """
        if not (self._room_id and self._read_upto):
            return
        mark = (user_id, self._room_id, self._read_upto)
        wait = READ_MARK_EVERY - (time.time() - self._read_marked_at)
        if wait <= 0:
            self._read_marked_at = time.time()
            _background(db.run_in_session(messages.mark_read, *mark))
        else:
            _defer_read_mark(self._token(), mark, wait)

    async def _flush_read_mark(self, user_id: int) -> None:
        if self._room_id and self._read_upto:
            try:
                await db.run_in_session(messages.mark_read, user_id, self._room_id, self._read_upto)
            except ServiceError:
                pass
        self._read_upto = 0


_BACKGROUND: set[asyncio.Task] = set()


def _background(coro) -> None:
    """Run a best-effort write without blocking delivery; the next mark fixes a failure."""

    async def quietly() -> None:
        try:
            await coro
        except Exception as exc:
            log.info("background read mark failed: %s", exc)

    task = asyncio.get_running_loop().create_task(quietly())
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


# Trailing read marks waiting to be written, per tab on this worker: at most
# one entry and one sleeping task per tab, removed when written.
_PENDING_READ_MARKS: dict[str, tuple[int, int, int]] = {}


def _defer_read_mark(token: str, mark: tuple[int, int, int], delay: float) -> None:
    """Write ``mark`` (user, room, message id) after ``delay`` unless a newer one replaces it."""
    first = token not in _PENDING_READ_MARKS
    _PENDING_READ_MARKS[token] = mark
    if not first:
        return

    async def write_later() -> None:
        await asyncio.sleep(delay)
        latest = _PENDING_READ_MARKS.pop(token, None)
        if latest is not None:
            await db.run_in_session(messages.mark_read, *latest)

    _background(write_later())


def _notify(title: str, body: str) -> list:
    """A toast, plus a browser notification when the tab is hidden and allowed.

    Text goes through ``json.dumps`` so user content can never become script.
    """
    script = (
        "if (document.hidden && window.Notification && Notification.permission === 'granted')"
        f" {{ new Notification({json.dumps(title)}, {{body: {json.dumps(body)}}}); }}"
    )
    return [rx.toast.info(title), rx.call_script(script)]


async def _sync_presence_now() -> None:
    from blabber.state import live

    await live.sync_presence_now()


def _schedule_typing_expiry(token: str) -> None:
    from blabber.state import live

    live.schedule_typing_expiry(token, TYPING_SECONDS + 0.2)
