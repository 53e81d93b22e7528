"""Glue between this worker's hub and Reflex: room feeds to sockets, events into tab states.

Started once per worker process as a lifespan task (:func:`run_realtime`):
it creates the broker and the hub, consumes the broker, and every couple of
seconds forgets tabs whose websocket closed, heartbeats presence, writes the
read marks its viewers earned and drops feeds nobody watches.

Two ways out:

- **Room feeds** (:func:`on_room_events`): one :class:`RoomFeed` per viewed
  room; a change is sent as one socket.io packet to the room's viewers on
  this worker (a socket.io room per feed, encoded once), as a delta of
  ``FeedState``. No tab state is locked or loaded on this path.
- **Tab states** (:func:`deliver`): events that change one tab's own state
  (unread badge, kicked, logged out elsewhere, ban list) go through
  ``app.modify_state``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any

import reflex as rx
import reflex.model  # imported for its side effect; see below
from reflex.state import StateUpdate
from reflex_base.constants.state import FIELD_MARKER
from reflex_base.event import Event as FrontendEvent

from blabber import db
from blabber.realtime import events as ev
from blabber.realtime.broker import get_broker
from blabber.realtime.events import Event
from blabber.realtime.feeds import (
    FEED_TRIMMED,
    MEMBERS_SHOWN,
    Payload,
    RoomFeed,
    empty_snapshot,
)
from blabber.realtime.hub import RESYNC, Hub, get_hub, set_hub
from blabber.services import messages, presence, rooms
from blabber.services.views import MessageView
from blabber.settings import get_settings
from blabber.state.feed import FeedState

# ``reflex.model`` (SQLModel, pygments lexers...) is imported lazily by Reflex
# while preparing the payload of the first handler event with arguments, so
# each worker's first ``send`` stalled for ~1-2 s (py-spy, bench/RESULTS.md).
# Importing it here moves that cost to worker start.

log = logging.getLogger(__name__)
PRESENCE_EVERY_SECONDS = 2.0
TYPING_SECONDS = 4.0  # a typing notice shows this long unless renewed
MEMBERS_DEBOUNCE_SECONDS = 0.5  # a join/presence storm refreshes a panel ~twice a second
FEED_IDLE_SECONDS = 30.0  # a feed nobody here watches is dropped after this
FEED_PREFIX = "feed:"
_app: rx.App | None = None
# Presence syncs of this worker run one at a time: two concurrent syncs both
# insert the same new tab and the second fails on the primary key (seen on
# PostgreSQL as open_room errors when 100 tabs open a room at once). A sync
# that *started* after a caller asked covers that caller, so a burst of N
# opens costs ~2 syncs, not N.
_SYNC_LOCK = asyncio.Lock()
_syncs_started = 0


async def deliver(token: str, batch: list[Event]) -> None:
    """Apply a batch of events to one tab's ChatState, move its feed, push the delta.

    Only while the socket that registered the tab still holds its token: a
    new socket with the same token (reconnected, or opened by someone who
    read the token) has proven nothing yet and is dropped from the hub.
    """
    hub = get_hub()
    if hub is not None and not hub.registered_by(token, _sid(token)):
        hub.forget(token)
        return
    frontend = await _apply(token, batch)
    # Kicked or logged out: the socket must stop receiving the room's feed now.
    await follow(token)
    await _send_frontend_events(token, frontend)


async def _apply(token: str, batch: list[Event]) -> list:
    from blabber.state.chat import ChatState

    assert _app is not None
    async with _app.modify_state(rx.BaseStateToken(ident=token, cls=ChatState)) as state:
        chat = state if isinstance(state, ChatState) else await state.get_state(ChatState)
        return await chat._apply_live_events(batch)


async def _send_frontend_events(token: str, frontend: list) -> None:
    if _app is None:
        return
    if frontend and _app.event_namespace is not None:
        await _app.event_namespace.emit_update(
            update=StateUpdate(events=FrontendEvent.from_event_type(frontend)), token=token
        )


# -- room feeds ----------------------------------------------------------------
_feeds: dict[int, RoomFeed] = {}
_feed_loads: dict[int, asyncio.Future] = {}
_feed_locks: dict[int, asyncio.Lock] = {}
_typing_timers: dict[int, asyncio.TimerHandle] = {}
_members_pending: set[int] = set()
# (user_id, room_id) -> newest message id shown to one of that user's tabs here.
_read_marks: dict[tuple[int, int], int] = {}


def _packet(payload: Payload) -> dict[str, Any]:
    """A ``FeedState`` delta in the shape ``StateUpdate`` has on the wire."""
    return {"delta": {FeedState.get_full_name(): {k + FIELD_MARKER: v for k, v in payload.items()}}}


async def _emit(payload: Payload, *, to: str | None, skip: list[str] | None = None) -> None:
    """Send a feed payload to one sid or a socket.io room (encoded once for all)."""
    if _app is None or _app.sio is None or _app.event_namespace is None or to is None:
        return
    await _app.sio.emit(
        "event", _packet(payload), to=to, skip_sid=skip, namespace=_app.event_namespace.namespace
    )


def _sid(token: str) -> str | None:
    if _app is None or _app.event_namespace is None:
        return None
    return _app.event_namespace.token_to_sid.get(token)


def _lock(room_id: int) -> asyncio.Lock:
    return _feed_locks.setdefault(room_id, asyncio.Lock())


def _degraded() -> bool:
    hub = get_hub()
    return bool(hub and hub.degraded)


async def _members_of(room_id: int) -> tuple[list[dict[str, Any]], int, int]:
    ttl = get_settings().presence_ttl_seconds

    def load(session) -> tuple[list[dict[str, Any]], int, int]:
        ids = rooms.member_ids(session, room_id)
        online = presence.online_user_ids(session, ids, ttl)
        shown, count = rooms.members_panel(session, room_id, online, MEMBERS_SHOWN)
        return [dataclasses.asdict(m) for m in shown], count, len(online)

    return await db.run_in_session(load)


async def _load_feed(feed: RoomFeed) -> None:
    views, has_older = await db.run_in_session(messages.room_window, feed.room_id, feed.window)
    members, count, online = await _members_of(feed.room_id)
    feed.load([dataclasses.asdict(v) for v in views], has_older)
    feed.set_members(members, count, online)


async def _feed(room_id: int, room_name: str | None = None) -> RoomFeed:
    """This worker's feed of a room, loaded from the database on first use."""
    feed = _feeds.get(room_id)
    if feed is None:
        if room_name is None:
            room_name = await db.run_in_session(rooms.name_of, room_id)
            feed = _feeds.get(room_id)  # another caller may have made it meanwhile
    if feed is None:
        settings = get_settings()
        window = max(1, settings.message_window)
        feed = RoomFeed(room_id, room_name or "", window=window, tail_max=max(4, window // 3))
        _feeds[room_id] = feed
        _feed_loads[room_id] = asyncio.ensure_future(_load_feed(feed))
    if not feed.loaded:
        try:
            await asyncio.shield(_feed_loads[room_id])
        except Exception:
            if _feeds.get(room_id) is feed and not feed.loaded:
                _feeds.pop(room_id, None)  # DB down: the next open tries again
                _feed_loads.pop(room_id, None)
            raise
    return feed


async def follow(token: str) -> None:
    """Put the tab's socket in the feed of the room its ChatState shows, and only that.

    Called after every change of what a tab shows (open, leave, kicked,
    logged out). Joining a feed sends its whole view to that socket first.
    """
    hub = get_hub()
    sid = _sid(token)
    if hub is None or sid is None or _app is None or _app.sio is None:
        return
    namespace = _app.event_namespace.namespace if _app.event_namespace else "/_event"
    if not hub.registered_by(token, sid):
        hub.forget(token)  # registered by an earlier socket of this token
    tab = hub.tabs.get(token)
    room_id = tab.viewing_room if tab else None
    current = [r for r in _app.sio.rooms(sid, namespace) if str(r).startswith(FEED_PREFIX)]
    for room in current:
        if room != f"{FEED_PREFIX}{room_id}":
            await _app.sio.leave_room(sid, room, namespace)
    if room_id is None:
        if current:
            await _emit(empty_snapshot(_degraded()), to=sid)
        return
    if f"{FEED_PREFIX}{room_id}" in current:
        return
    # The one way into a feed: re-checked against the database every time a
    # socket is (re)added, so nothing a tab's state remembers can put it back.
    # A kick committed after this check reaches this tab (it is registered)
    # and takes it out again before the next message (``_evict_removed``).
    assert tab is not None  # it names the room
    if not await db.run_in_session(rooms.is_member, tab.user_id, room_id):
        hub.watch(token, tab.user_id, None, tab.member_rooms - {room_id}, sid=sid)
        return
    feed = await _feed(room_id)
    async with _lock(room_id):
        tab = hub.tabs.get(token)
        if tab is None or tab.viewing_room != room_id or tab.sid != sid:
            return  # navigated away (or the socket changed) while the feed loaded
        everyone, own = feed.typing_labels()
        await _app.sio.enter_room(sid, f"{FEED_PREFIX}{room_id}", namespace)
        await _emit(feed.snapshot(own.get(tab.user_id, everyone), _degraded()), to=sid)
        if feed.last_id:
            _read_marks[(tab.user_id, room_id)] = feed.last_id


async def open_feed(room_id: int, room_name: str) -> RoomFeed:
    """Load (or reuse) a room's feed before a tab shows it; raises if the DB is down."""
    return await _feed(room_id, room_name)


def feed_of(room_id: int) -> RoomFeed | None:
    """This worker's feed of a room, if it has one."""
    return _feeds.get(room_id)


async def publish_local(view: MessageView) -> None:
    """Show a message this worker just stored to its local viewers while the broker is down.

    Normally this worker, like every other, takes its own messages from the
    broker too: one stream in publish order for all workers. Echoing them
    here first let them overtake older messages of other workers still in
    this worker's queue; under overload (seconds of backlog) those arrived
    more than a window behind and were never shown live (the bench's overload
    step counted them lost). While the hub reports the broker down nothing
    comes back from it, so the message is shown here; when it returns, the
    feeds reload from the database (RESYNC).
    """
    hub = get_hub()
    if hub is not None and not hub.degraded:
        return
    # Not awaited: the sender's handler holds its tab's state lock, and a
    # feed roll-over may wait on paged tabs' state locks (see below).
    _background(_publish_messages(view.room_id, [dataclasses.asdict(view)]))


async def on_room_events(batch: list[Event]) -> None:
    """The hub's room-feed path: fold a batch into this worker's feeds and send them."""
    await _evict_removed(batch)
    new_messages: dict[int, list[dict[str, Any]]] = {}
    typing_rooms: set[int] = set()
    for event in batch:
        room_id = event.room_id or 0
        if event.type == RESYNC:
            await _resync_feeds()
        elif event.type == ev.MESSAGE_CREATED and room_id in _feeds:
            new_messages.setdefault(room_id, []).append(event.data)
        elif event.type == ev.TYPING and room_id in _feeds and event.user_id:
            name = str(event.data.get("username", ""))
            # Only a new typer changes the line; renewals just extend it.
            if name and _feeds[room_id].typing(event.user_id, name, TYPING_SECONDS):
                typing_rooms.add(room_id)
        elif event.type == ev.PRESENCE_CHANGED:
            for rid in event.data.get("room_ids", []):
                if rid in _feeds:
                    _refresh_members_soon(rid)
        elif event.type == ev.MEMBERSHIP_CHANGED and room_id in _feeds:
            _refresh_members_soon(room_id)
    for room_id, views in new_messages.items():
        await _publish_messages(room_id, views)
    for room_id in typing_rooms:
        await _publish_typing(room_id)


async def _evict_removed(batch: list[Event]) -> None:
    """Take removed members' sockets out of the room's feed before anything else is sent.

    The removed tab's own state is updated afterwards (``deliver``); this
    step runs first so that not even a message in the same batch as the
    removal reaches them.
    """
    hub = get_hub()
    if hub is None or _app is None or _app.sio is None:
        return
    namespace = _app.event_namespace.namespace if _app.event_namespace else "/_event"
    for event in batch:
        if event.type != ev.USER_REMOVED or not event.room_id:
            continue
        for token in hub.tabs_of(event.user_id or 0):
            tab = hub.tabs[token]
            rest = tab.member_rooms - {event.room_id}
            viewing = None if tab.viewing_room == event.room_id else tab.viewing_room
            hub.watch(token, tab.user_id, viewing, rest, sid=tab.sid, is_admin=tab.is_admin)
            sid = _sid(token)
            if sid is not None and viewing is None:
                await _app.sio.leave_room(sid, f"{FEED_PREFIX}{event.room_id}", namespace)
                await _emit(empty_snapshot(_degraded()), to=sid)


async def _publish_messages(room_id: int, views: list[dict[str, Any]]) -> None:
    """Add a batch of new messages to the room's feed and send it, a window at a time.

    A packet carries at most the newest ``window`` messages, so a backlog
    bigger than that (a worker catching up under overload) goes out in
    window-sized packets: every message is in some packet its viewers get,
    none is rolled out of the feed unseen.
    """
    feed = _feeds.get(room_id)
    hub = get_hub()
    if feed is None or hub is None:
        return
    for start in range(0, len(views), feed.window):
        await _publish_chunk(room_id, feed, hub, views[start : start + feed.window])


async def _publish_chunk(
    room_id: int, feed: RoomFeed, hub: Hub, views: list[dict[str, Any]]
) -> None:
    viewers = hub.viewers(room_id)
    async with _lock(room_id):
        payload, trimmed = feed.add(views)
        if not payload:
            return
        authors = {v.get("author") for v in views}
        stopped = any([feed.stopped_typing(a) for a in authors if a])
        if trimmed:
            await _hand_trimmed_to_paged_tabs(room_id, trimmed, viewers)
        await _emit(payload, to=f"{FEED_PREFIX}{room_id}")
    for tab in viewers.values():
        _read_marks[(tab.user_id, room_id)] = feed.last_id
    if stopped:
        await _publish_typing(room_id)


TRIM_HANDOVER_SECONDS = 1.0


async def _hand_trimmed_to_paged_tabs(room_id: int, trimmed: list, viewers: dict) -> None:
    """Tabs holding history older than the feed take what it is about to drop.

    Done *before* the feed's roll-over packet goes out (bounded by
    ``TRIM_HANDOVER_SECONDS``; a slow tab finishes in the background), so such
    a tab's history stays contiguous with the feed instead of showing a gap
    for a moment. Only tabs that paged back or caught up from the database
    are involved, and only once per roll-over.
    """
    trim = Event(type=FEED_TRIMMED, room_id=room_id, data={"messages": trimmed})
    tasks = [
        asyncio.ensure_future(_apply(token, [trim])) for token, tab in viewers.items() if tab.paged
    ]
    if not tasks:
        return
    for task in tasks:
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)
        task.add_done_callback(_log_failure)
    await asyncio.wait(tasks, timeout=TRIM_HANDOVER_SECONDS)


def _log_failure(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.info("handing trimmed history to a tab failed: %s", task.exception())


async def _publish_typing(room_id: int) -> None:
    """Send the typing line: one packet for everyone, one per typer (minus themselves)."""
    feed = _feeds.get(room_id)
    hub = get_hub()
    if feed is None or hub is None:
        return
    next_expiry = feed.expire_typing()
    everyone, own = feed.typing_labels()
    typer_sids: dict[int, list[str]] = {}
    for token, tab in hub.viewers(room_id).items():
        sid = _sid(token)
        if sid and tab.user_id in own:
            typer_sids.setdefault(tab.user_id, []).append(sid)
    async with _lock(room_id):
        skip = [sid for sids in typer_sids.values() for sid in sids]
        await _emit({"typing_text": everyone}, to=f"{FEED_PREFIX}{room_id}", skip=skip or None)
        for user_id, sids in typer_sids.items():
            for sid in sids:
                await _emit({"typing_text": own[user_id]}, to=sid)
    _schedule_typing_expiry(room_id, next_expiry)


def _schedule_typing_expiry(room_id: int, at: float | None) -> None:
    old = _typing_timers.pop(room_id, None)
    if old is not None:
        old.cancel()
    if at is None:
        return
    loop = asyncio.get_running_loop()
    delay = max(0.05, at - time.time() + 0.05)
    _typing_timers[room_id] = loop.call_later(delay, lambda: _background(_publish_typing(room_id)))


def _refresh_members_soon(room_id: int) -> None:
    """Re-read a room's Members panel once for a burst of joins/presence changes."""
    if room_id in _members_pending:
        return
    _members_pending.add(room_id)

    async def refresh() -> None:
        try:
            await asyncio.sleep(MEMBERS_DEBOUNCE_SECONDS)
        finally:
            _members_pending.discard(room_id)
        feed = _feeds.get(room_id)
        if feed is None:
            return
        members, count, online = await _members_of(room_id)
        async with _lock(room_id):
            await _emit(feed.set_members(members, count, online), to=f"{FEED_PREFIX}{room_id}")

    _background(refresh())


async def _resync_feeds() -> None:
    """After a broker outage: reload every feed from the database and resend it."""
    hub = get_hub()
    for room_id, feed in list(_feeds.items()):
        views, has_older = await db.run_in_session(messages.room_window, room_id, feed.window)
        members, count, online = await _members_of(room_id)
        async with _lock(room_id):
            feed.load([dataclasses.asdict(v) for v in views], has_older)
            feed.set_members(members, count, online)
            everyone, _ = feed.typing_labels()
            await _emit(feed.snapshot(everyone, _degraded()), to=f"{FEED_PREFIX}{room_id}")
        if hub is not None:
            for tab in hub.viewers(room_id).values():
                _read_marks[(tab.user_id, room_id)] = feed.last_id


async def announce_status(degraded: bool) -> None:
    """Tell every tab on this worker whether live delivery works (the broker is up)."""
    await _emit_all({"degraded": degraded})


async def _emit_all(payload: Payload) -> None:
    if _app is None or _app.sio is None or _app.event_namespace is None:
        return
    await _app.sio.emit("event", _packet(payload), namespace=_app.event_namespace.namespace)


async def flush_read_marks() -> None:
    """Write the read marks this worker's viewers earned, in one transaction."""
    if not _read_marks:
        return
    marks = dict(_read_marks)
    _read_marks.clear()
    try:
        await db.run_in_session(messages.mark_read_many, marks)
    except Exception:
        for key, value in marks.items():  # keep them for the next try
            _read_marks[key] = max(value, _read_marks.get(key, 0))
        raise


def _evict_idle_feeds() -> None:
    """Forget feeds of rooms no local tab has shown for a while (memory stays bounded)."""
    hub = get_hub()
    viewed = hub.viewed_rooms() if hub else set()
    now = time.time()
    for room_id, feed in list(_feeds.items()):
        if room_id in viewed or not feed.loaded:
            feed.idle_since = None
        elif feed.idle_since is None:
            feed.idle_since = now
        elif now - feed.idle_since > FEED_IDLE_SECONDS:
            for table in (_feeds, _feed_loads, _feed_locks):
                table.pop(room_id, None)  # type: ignore[attr-defined]
            timer = _typing_timers.pop(room_id, None)
            if timer is not None:
                timer.cancel()


_BACKGROUND: set[asyncio.Task] = set()


def _background(coro) -> None:
    """Run a best-effort coroutine without blocking the caller; log failures."""

    async def quietly() -> None:
        try:
            await coro
        except Exception as exc:
            log.info("background feed work failed: %s", exc)

    task = asyncio.get_running_loop().create_task(quietly())
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


def _connected_tokens() -> dict[str, str]:
    """Tab token -> socket id of every socket connected to this worker."""
    if _app is None or _app.event_namespace is None:
        return {}
    return dict(_app.event_namespace.token_to_sid)


async def sync_presence_now() -> None:
    """Forget closed tabs and heartbeat this worker's open ones (one DB round trip)."""
    global _syncs_started
    hub = get_hub()
    if hub is None:
        return
    asked_at = _syncs_started
    async with _SYNC_LOCK:
        if _syncs_started > asked_at:
            return  # a sync that began after we asked has finished: it saw our tab
        _syncs_started += 1
        hub.prune(_connected_tokens())
        await db.run_in_session(
            presence.sync_worker,
            hub.worker_id,
            hub.local_connections(),
            get_settings().presence_ttl_seconds,
        )


async def _housekeeping_loop() -> None:
    while True:
        await asyncio.sleep(PRESENCE_EVERY_SECONDS)
        try:
            await sync_presence_now()
            await flush_read_marks()
        except Exception as exc:  # DB down: try again next tick
            log.warning("presence sync or read marks failed: %s", exc)
        _evict_idle_feeds()


async def run_realtime(app: rx.App) -> None:
    """Lifespan task: this worker's hub and presence heartbeat, until shutdown."""
    global _app
    _app = app
    hub = Hub(get_broker(), deliver, on_room_events=on_room_events, on_status=announce_status)
    set_hub(hub)
    tasks = [
        asyncio.create_task(hub.run()),
        asyncio.create_task(hub.run_unread_flusher()),
        asyncio.create_task(_housekeeping_loop()),
    ]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        set_hub(None)
