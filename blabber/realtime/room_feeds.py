"""This worker's room feeds: load them, fold events into them, send them to viewers.

One :class:`~blabber.realtime.feeds.RoomFeed` per room some local tab shows
(plain data, ``feeds.py``); this module owns the registry of them and the
I/O around it:

- loading a feed from the database the first time a tab opens the room
  (one load shared by every tab opening it at once);
- turning a batch of broker events into feed packets: new messages (a
  window at a time), the typing line (only when it changes), the Members
  panel (re-read at most twice a second per room);
- sending each packet once to the socket.io room of the feed's viewers
  (through the :class:`~blabber.realtime.transport.Transport`);
- remembering the newest message each local viewer was shown (read marks,
  written in one transaction by the runtime's housekeeping);
- reloading every feed after a broker outage, and dropping feeds nobody
  here has watched for a while.

Invariant: a feed's packets go to a socket only while it is in the feed's
socket.io room, and only the runtime's ``follow`` puts it there, after a
membership check. Everything sent for one room is sent under that room's
lock, so packets of one feed leave in the order the feed changed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from blabber import db
from blabber.realtime import events as ev
from blabber.realtime.events import Event
from blabber.realtime.feeds import MEMBERS_SHOWN, RoomFeed
from blabber.realtime.hub import Hub, Tab
from blabber.realtime.transport import Transport, feed_room
from blabber.services import messages, presence, room_members, rooms
from blabber.settings import Settings

log = logging.getLogger(__name__)
TYPING_SECONDS = 4.0  # a typing notice shows this long unless renewed
MEMBERS_DEBOUNCE_SECONDS = 0.5  # a join/presence storm refreshes a panel ~twice a second
FEED_IDLE_SECONDS = 30.0  # a feed nobody here watches is dropped after this
TRIM_HANDOVER_SECONDS = 1.0  # how long a roll-over waits for paged tabs to take the trimmed part

ApplyToTab = Callable[[str, list[Event]], Awaitable[list]]


class RoomFeeds:
    """The feeds of this worker and everything that sends them."""

    def __init__(
        self, hub: Hub, transport: Transport, apply_to_tab: ApplyToTab, settings: Settings
    ) -> None:
        """``apply_to_tab(token, events)`` applies events to one tab's own state."""
        self.hub = hub
        self.transport = transport
        self.apply_to_tab = apply_to_tab
        self.settings = settings
        self.feeds: dict[int, RoomFeed] = {}
        self._loads: dict[int, asyncio.Future] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._typing_timers: dict[int, asyncio.TimerHandle] = {}
        self._members_pending: set[int] = set()
        # (user_id, room_id) -> newest message id shown to one of that user's tabs here.
        self.read_marks: dict[tuple[int, int], int] = {}
        self._background: set[asyncio.Future] = set()

    # -- the registry ----------------------------------------------------------
    def lock(self, room_id: int) -> asyncio.Lock:
        """The lock under which everything of one room's feed is changed and sent."""
        return self._locks.setdefault(room_id, asyncio.Lock())

    def get(self, room_id: int) -> RoomFeed | None:
        """This worker's feed of a room, if it has one."""
        return self.feeds.get(room_id)

    async def open(self, room_id: int, room_name: str | None = None) -> RoomFeed:
        """The feed of a room, loaded from the database on first use; raises if the DB is down."""
        feed = self.feeds.get(room_id)
        if feed is None and room_name is None:
            room_name = await db.run_in_session(rooms.name_of, room_id)
            feed = self.feeds.get(room_id)  # another caller may have made it meanwhile
        if feed is None:
            window = max(1, self.settings.message_window)
            feed = RoomFeed(room_id, room_name or "", window=window, tail_max=max(4, window // 3))
            self.feeds[room_id] = feed
            self._loads[room_id] = asyncio.ensure_future(self._load(feed))
        if not feed.loaded:
            try:
                await asyncio.shield(self._loads[room_id])
            except Exception:
                if self.feeds.get(room_id) is feed and not feed.loaded:
                    self.feeds.pop(room_id, None)  # DB down: the next open tries again
                    self._loads.pop(room_id, None)
                raise
        return feed

    async def _load(self, feed: RoomFeed) -> None:
        views, has_older = await db.run_in_session(messages.room_window, feed.room_id, feed.window)
        members, count, online = await self._members_of(feed.room_id)
        feed.load([v.as_row() for v in views], has_older)
        feed.set_members(members, count, online)

    async def _members_of(self, room_id: int) -> tuple[list[dict[str, Any]], int, int]:
        ttl = self.settings.presence_ttl_seconds

        def load(session) -> tuple[list[dict[str, Any]], int, int]:
            ids = rooms.member_ids(session, room_id)
            online = presence.online_user_ids(session, ids, ttl)
            shown, count = room_members.members_panel(session, room_id, online, MEMBERS_SHOWN)
            return [dataclasses.asdict(m) for m in shown], count, len(online)

        return await db.run_in_session(load)

    def evict_idle(self) -> None:
        """Forget feeds of rooms no local tab has shown for a while (memory stays bounded)."""
        viewed = self.hub.viewed_rooms()
        now = time.time()
        for room_id, feed in list(self.feeds.items()):
            if room_id in viewed or not feed.loaded:
                feed.idle_since = None
            elif feed.idle_since is None:
                feed.idle_since = now
            elif now - feed.idle_since > FEED_IDLE_SECONDS:
                self.feeds.pop(room_id, None)
                self._loads.pop(room_id, None)
                self._locks.pop(room_id, None)
                timer = self._typing_timers.pop(room_id, None)
                if timer is not None:
                    timer.cancel()

    # -- one viewer ------------------------------------------------------------
    async def show_to(self, token: str, sid: str, feed: RoomFeed) -> None:
        """Put a tab's socket (membership already checked) into the feed; send the whole view.

        Nothing happens if, by the time the room's lock is free, the hub no
        longer has the tab viewing this room on this socket.
        """
        async with self.lock(feed.room_id):
            tab = self.hub.tabs.get(token)
            if tab is None or tab.viewing_room != feed.room_id or tab.sid != sid:
                return  # navigated away, or the socket changed, meanwhile
            everyone, own = feed.typing_labels()
            await self.transport.enter(sid, feed_room(feed.room_id))
            await self.transport.send_feed(
                feed.snapshot(own.get(tab.user_id, everyone), self.hub.degraded), to=sid
            )
            if feed.last_id:
                self.read_marks[(tab.user_id, feed.room_id)] = feed.last_id

    # -- a batch of broker events ------------------------------------------------
    async def on_events(self, batch: list[Event]) -> None:
        """Fold a batch into the feeds it concerns and send what changed."""
        new_messages: dict[int, list[dict[str, Any]]] = {}
        typing_rooms: set[int] = set()
        for event in batch:
            room_id = event.room_id or 0
            if event.type == ev.RESYNC:
                await self._resync()
            elif event.type == ev.MESSAGE_CREATED and room_id in self.feeds:
                new_messages.setdefault(room_id, []).append(event.data)
            elif event.type == ev.MESSAGE_CHANGED and room_id in self.feeds:
                # New messages of this batch first: a change may be of one of them.
                await self.publish_messages(room_id, new_messages.pop(room_id, []))
                await self._publish_change(room_id, event.data)
            elif event.type == ev.TYPING and room_id in self.feeds and event.user_id:
                name = str(event.data.get("username", ""))
                # Only a new typer changes the line; renewals just extend it.
                if name and self.feeds[room_id].typing(event.user_id, name, TYPING_SECONDS):
                    typing_rooms.add(room_id)
            elif event.type == ev.PRESENCE_CHANGED:
                for rid in event.data.get("room_ids", []):
                    if rid in self.feeds:
                        self._refresh_members_soon(rid)
            elif event.type == ev.MEMBERSHIP_CHANGED and room_id in self.feeds:
                self._refresh_members_soon(room_id)
            elif event.type == ev.ROOM_CHANGED and room_id in self.feeds:
                if event.data.get("deleted"):
                    self.feeds.pop(room_id, None)  # its viewers are sent away (live_events)
                    self._loads.pop(room_id, None)
                else:  # the key its viewers reopen it under (renamed, or made private)
                    await self._rename(room_id, str(event.data.get("url_name", "")))
            elif event.type == ev.USER_RENAMED:  # their name in the rows this worker holds
                for rid in event.data.get("room_ids", []):
                    if rid in self.feeds:
                        self.background(self._reload(rid))
        for room_id, views in new_messages.items():
            await self.publish_messages(room_id, views)
        for room_id in typing_rooms:
            await self._publish_typing(room_id)

    async def publish_messages(self, room_id: int, views: list[dict[str, Any]]) -> None:
        """Add new messages to the room's feed and send them, a window at a time.

        A packet carries at most the newest ``window`` messages, so a backlog
        bigger than that (a worker catching up under overload) goes out in
        window-sized packets: every message is in some packet its viewers
        get, none is rolled out of the feed unseen.
        """
        feed = self.feeds.get(room_id)
        if feed is None:
            return
        for start in range(0, len(views), feed.window):
            await self._publish_chunk(feed, views[start : start + feed.window])

    async def _rename(self, room_id: int, key: str) -> None:
        """The feed's key changed (renamed, made private): tell its viewers' feed state.

        Their sockets stay in the feed, so reopening the room under its new
        URL sends no snapshot; this keeps what they show keyed right.
        """
        feed = self.feeds[room_id]
        async with self.lock(room_id):
            if feed.room_name != key:
                feed.room_name = key
                await self.transport.send_feed({"room": key}, to=feed_room(room_id))

    async def _publish_change(self, room_id: int, view: dict[str, Any]) -> None:
        """Replace a message's row with its newer version and send only what changed."""
        feed = self.feeds.get(room_id)
        if feed is None:
            return
        async with self.lock(room_id):
            payload = feed.change(view)
            if payload:
                await self.transport.send_feed(payload, to=feed_room(room_id))

    async def _publish_chunk(self, feed: RoomFeed, views: list[dict[str, Any]]) -> None:
        viewers = self.hub.viewers(feed.room_id)
        async with self.lock(feed.room_id):
            payload, trimmed = feed.add(views)
            if not payload:
                return
            authors = {v.get("author") for v in views}
            stopped = any([feed.stopped_typing(a) for a in authors if a])
            if trimmed:
                await self._hand_trimmed_to_paged_tabs(feed.room_id, trimmed, viewers)
            await self.transport.send_feed(payload, to=feed_room(feed.room_id))
        self._mark_read_by_viewers(feed.room_id, viewers, feed.last_id)
        if stopped:
            await self._publish_typing(feed.room_id)

    async def _hand_trimmed_to_paged_tabs(
        self, room_id: int, trimmed: list, viewers: dict[str, Tab]
    ) -> None:
        """Tabs holding history older than the feed take what it is about to drop.

        Done *before* the feed's roll-over packet goes out (bounded by
        ``TRIM_HANDOVER_SECONDS``; a slow tab finishes in the background), so
        such a tab's history stays contiguous with the feed instead of
        showing a gap for a moment. Only tabs that paged back or caught up
        from the database are involved, and only once per roll-over.
        """
        trim = Event(type=ev.FEED_TRIMMED, room_id=room_id, data={"messages": trimmed})
        tasks = [
            asyncio.ensure_future(self.apply_to_tab(token, [trim]))
            for token, tab in viewers.items()
            if tab.paged
        ]
        if not tasks:
            return
        for task in tasks:
            self._keep(task)
            task.add_done_callback(_log_failure)
        await asyncio.wait(tasks, timeout=TRIM_HANDOVER_SECONDS)

    async def _publish_typing(self, room_id: int) -> None:
        """Send the typing line: one packet for everyone, one per typer (minus themselves)."""
        feed = self.feeds.get(room_id)
        if feed is None:
            return
        next_expiry = feed.expire_typing()
        everyone, own = feed.typing_labels()
        typer_sids: dict[int, list[str]] = {}
        for token, tab in self.hub.viewers(room_id).items():
            sid = self.transport.sid_of(token)
            if sid and tab.user_id in own:
                typer_sids.setdefault(tab.user_id, []).append(sid)
        async with self.lock(room_id):
            skip = [sid for sids in typer_sids.values() for sid in sids]
            await self.transport.send_feed(
                {"typing_text": everyone}, to=feed_room(room_id), skip=skip or None
            )
            for user_id, sids in typer_sids.items():
                for sid in sids:
                    await self.transport.send_feed({"typing_text": own[user_id]}, to=sid)
        self._schedule_typing_expiry(room_id, next_expiry)

    def _schedule_typing_expiry(self, room_id: int, at: float | None) -> None:
        old = self._typing_timers.pop(room_id, None)
        if old is not None:
            old.cancel()
        if at is None:
            return
        delay = max(0.05, at - time.time() + 0.05)
        self._typing_timers[room_id] = asyncio.get_running_loop().call_later(
            delay, lambda: self.background(self._publish_typing(room_id))
        )

    def _refresh_members_soon(self, room_id: int) -> None:
        """Re-read a room's Members panel once for a burst of joins/presence changes."""
        if room_id in self._members_pending:
            return
        self._members_pending.add(room_id)

        async def refresh() -> None:
            try:
                await asyncio.sleep(MEMBERS_DEBOUNCE_SECONDS)
            finally:
                self._members_pending.discard(room_id)
            feed = self.feeds.get(room_id)
            if feed is None:
                return
            members, count, online = await self._members_of(room_id)
            async with self.lock(room_id):
                payload = feed.set_members(members, count, online)
                await self.transport.send_feed(payload, to=feed_room(room_id))

        self.background(refresh())

    async def _resync(self) -> None:
        """After a broker outage: reload every feed from the database and resend it."""
        for room_id in list(self.feeds):
            await self._reload(room_id)

    async def _reload(self, room_id: int) -> None:
        """Reload one feed from the database and resend it whole (a snapshot)."""
        feed = self.feeds.get(room_id)
        if feed is None:
            return
        views, has_older = await db.run_in_session(messages.room_window, room_id, feed.window)
        members, count, online = await self._members_of(room_id)
        async with self.lock(room_id):
            feed.load([v.as_row() for v in views], has_older)
            feed.set_members(members, count, online)
            everyone, _ = feed.typing_labels()
            snapshot = feed.snapshot(everyone, self.hub.degraded)
            await self.transport.send_feed(snapshot, to=feed_room(room_id))
        self._mark_read_by_viewers(room_id, self.hub.viewers(room_id), feed.last_id)

    # -- read marks ----------------------------------------------------------------
    def _mark_read_by_viewers(self, room_id: int, viewers: dict[str, Tab], last_id: int) -> None:
        """Viewers whose socket is still open have read the room up to ``last_id``.

        A closed tab stays registered until the next prune (a heartbeat later);
        what arrives meanwhile was never on anyone's screen, so it stays unread.
        """
        for token, tab in viewers.items():
            if self.hub.registered_by(token, self.transport.sid_of(token)):
                self.read_marks[(tab.user_id, room_id)] = last_id

    async def flush_read_marks(self) -> None:
        """Write the read marks this worker's viewers earned, in one transaction."""
        if not self.read_marks:
            return
        marks, self.read_marks = self.read_marks, {}
        try:
            await db.run_in_session(messages.mark_read_many, marks)
        except Exception:
            for key, value in marks.items():  # keep them for the next try
                self.read_marks[key] = max(value, self.read_marks.get(key, 0))
            raise

    # -- background work -----------------------------------------------------------
    def background(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run best-effort feed work without blocking the caller; log failures."""

        async def quietly() -> None:
            try:
                await coro
            except Exception as exc:
                log.info("background feed work failed: %s", exc)

        self._keep(asyncio.get_running_loop().create_task(quietly()))

    def _keep(self, task: asyncio.Future) -> None:
        """Hold a reference until the task ends (the loop keeps only weak ones)."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _log_failure(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.info("handing trimmed history to a tab failed: %s", task.exception())
