"""This worker's live runtime: from the broker to the tabs it holds, and back.

The path of a change, top to bottom:

1. A service commits and publishes an event (``services/outbox.py``).
2. The broker carries it to every worker (``broker.py``); this worker's one
   subscription is the :class:`~blabber.realtime.hub.Hub`, which batches
   what arrived and calls, in this order:
3. :meth:`LiveRuntime.on_room_events` for the whole batch: removed members'
   sockets leave the room's feed first, then the room feeds fold the batch
   and send one packet per room to its viewers here (``room_feeds.py``);
4. :meth:`LiveRuntime.deliver` per tab whose *own* state changes (an unread
   badge, being kicked, a log-out elsewhere): the events are applied to the
   tab's state (``apply_to_tab``, injected by the state layer), the socket
   follows what the tab now shows, frontend events (redirects, toasts) go
   out.

Everything touching sockets goes through the injected
:class:`~blabber.realtime.transport.Transport`; everything touching a tab's
Reflex state through ``apply_to_tab``. So the runtime is tested with the
in-memory broker and a fake transport (``tests/test_runtime.py``).

The lifespan task (``blabber.blabber``) creates one runtime per worker
process and runs it until shutdown; handlers reach it with :func:`get_runtime`.
"""

from __future__ import annotations

import asyncio
import logging

from blabber import db
from blabber.realtime import events as ev
from blabber.realtime.broker import Broker
from blabber.realtime.events import Event
from blabber.realtime.feeds import RoomFeed, empty_snapshot
from blabber.realtime.hub import Hub, set_hub
from blabber.realtime.room_feeds import ApplyToTab, RoomFeeds
from blabber.realtime.transport import Transport, feed_room
from blabber.services import presence, rooms
from blabber.services.views import MessageView
from blabber.settings import Settings, get_settings

log = logging.getLogger(__name__)
PRESENCE_EVERY_SECONDS = 2.0


class LiveRuntime:
    """One worker's hub, room feeds, presence heartbeat and read marks."""

    def __init__(
        self,
        broker: Broker,
        transport: Transport,
        apply_to_tab: ApplyToTab,
        settings: Settings | None = None,
    ) -> None:
        """``apply_to_tab(token, events)`` changes a tab's state, returns frontend events."""
        self.settings = settings or get_settings()
        self.transport = transport
        self.apply_to_tab = apply_to_tab
        self.hub = Hub(
            broker, self.deliver, on_room_events=self.on_room_events, on_status=self.announce_status
        )
        self.feeds = RoomFeeds(self.hub, transport, apply_to_tab, self.settings)
        # Presence syncs run one at a time: two concurrent ones both insert the
        # same new tab and the second fails on the primary key (seen on
        # PostgreSQL when 100 tabs open a room at once). A sync that *started*
        # after a caller asked covers that caller, so a burst of N opens costs
        # ~2 syncs, not N.
        self._sync_lock = asyncio.Lock()
        self._syncs_started = 0

    # -- per-tab delivery ----------------------------------------------------------
    async def deliver(self, token: str, batch: list[Event]) -> None:
        """Apply a batch of events to one tab's state, move its socket, send frontend events.

        Only while the socket that registered the tab still holds its token: a
        new socket with the same token (reconnected, or opened by someone who
        read the token) has proven nothing yet and is dropped from the hub.
        """
        if not self.hub.registered_by(token, self.transport.sid_of(token)):
            self.hub.forget(token)
            return
        frontend = await self.apply_to_tab(token, batch)
        await self.follow(token)  # kicked or logged out: out of the feed now
        await self.transport.send_frontend_events(token, frontend)

    async def follow(self, token: str) -> None:
        """Put the tab's socket in the feed of the room the hub says it shows, and only that.

        Called after every change of what a tab shows (open, leave, kicked,
        logged out). The one way into a feed: membership is re-checked
        against the database every time a socket is (re)added, so nothing a
        tab's state or the hub remembers can put it back. A kick committed
        after the check reaches this tab (it is registered) and takes it out
        again before the next message (:meth:`_evict_removed`).
        """
        sid = self.transport.sid_of(token)
        if sid is None:
            return
        if not self.hub.registered_by(token, sid):
            self.hub.forget(token)  # registered by an earlier socket of this token
        tab = self.hub.tabs.get(token)
        room_id = tab.viewing_room if tab else None
        current = self.transport.feed_rooms_of(sid)
        for room in current:
            if room_id is None or room != feed_room(room_id):
                await self.transport.leave(sid, room)
        if tab is None or room_id is None:
            if current:
                await self.transport.send_feed(empty_snapshot(self.hub.degraded), to=sid)
            return
        if feed_room(room_id) in current:
            return
        if not await db.run_in_session(rooms.is_member, tab.user_id, room_id):
            self.hub.watch(
                token,
                tab.user_id,
                None,
                tab.member_rooms - {room_id},
                sid=sid,
                contacts=tab.contacts,
            )
            return
        feed = await self.feeds.open(room_id)
        await self.feeds.show_to(token, sid, feed)

    # -- room feeds ------------------------------------------------------------------
    async def open_feed(self, room_id: int, room_name: str) -> RoomFeed:
        """Load (or reuse) a room's feed before a tab shows it; raises if the DB is down."""
        return await self.feeds.open(room_id, room_name)

    def feed_of(self, room_id: int) -> RoomFeed | None:
        """This worker's feed of a room, if it has one."""
        return self.feeds.get(room_id)

    async def on_room_events(self, batch: list[Event]) -> None:
        """The hub's room-feed path: removals first, then the feeds."""
        await self._evict_removed(batch)
        await self.feeds.on_events(batch)

    async def _evict_removed(self, batch: list[Event]) -> None:
        """Take removed members' sockets out of the room's feed before anything else is sent.

        Their tabs' own state is updated afterwards (:meth:`deliver`); this
        runs first so that not even a message in the same batch as the
        removal reaches them.
        """
        for event in batch:
            if event.type != ev.USER_REMOVED or not event.room_id:
                continue
            for token in self.hub.tabs_of(event.user_id or 0):
                tab = self.hub.tabs[token]
                rest = tab.member_rooms - {event.room_id}
                viewing = None if tab.viewing_room == event.room_id else tab.viewing_room
                self.hub.watch(
                    token, tab.user_id, viewing, rest, sid=tab.sid, contacts=tab.contacts
                )
                sid = self.transport.sid_of(token)
                if sid is not None and viewing is None:
                    await self.transport.leave(sid, feed_room(event.room_id))
                    await self.transport.send_feed(empty_snapshot(self.hub.degraded), to=sid)

    async def publish_local(self, view: MessageView) -> None:
        """Show a message this worker just stored to its local viewers while the broker is down.

        Normally this worker, like every other, takes its own messages from
        the broker: one stream in publish order for all workers (an echo here
        would overtake older messages of other workers still queued, and
        under overload those arrived more than a window behind and were never
        shown live). While the hub reports the broker down nothing comes
        back from it, so the message is shown here; when it returns, the
        feeds reload from the database (``events.RESYNC``).
        """
        if not self.hub.degraded:
            return
        # Not awaited: the sender's handler holds its tab's state lock, and a
        # feed roll-over may wait on paged tabs' state locks.
        self.feeds.background(self.feeds.publish_messages(view.room_id, [view.as_row()]))

    async def announce_status(self, degraded: bool) -> None:
        """Tell every tab on this worker whether live delivery works (the broker is up)."""
        await self.transport.broadcast_feed({"degraded": degraded})

    # -- housekeeping ------------------------------------------------------------------
    async def flush_read_marks(self) -> None:
        """Write the read marks this worker's viewers earned, in one transaction."""
        await self.feeds.flush_read_marks()

    async def sync_presence_now(self) -> None:
        """Forget closed tabs and heartbeat this worker's open ones (one DB round trip)."""
        asked_at = self._syncs_started
        async with self._sync_lock:
            if self._syncs_started > asked_at:
                return  # a sync that began after we asked has finished: it saw our tab
            self._syncs_started += 1
            self.hub.prune(self.transport.connected())
            await db.run_in_session(
                presence.sync_worker,
                self.hub.worker_id,
                self.hub.local_connections(),
                self.settings.presence_ttl_seconds,
            )

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_EVERY_SECONDS)
            try:
                await self.sync_presence_now()
                await self.flush_read_marks()
            except Exception as exc:  # DB down: try again next tick
                log.warning("presence sync or read marks failed: %s", exc)
            self.feeds.evict_idle()

    async def run(self) -> None:
        """Consume the broker, flush unread counts and keep house, until cancelled."""
        set_hub(self.hub)
        tasks = [
            asyncio.create_task(self.hub.run()),
            asyncio.create_task(self.hub.run_unread_flusher()),
            asyncio.create_task(self._housekeeping()),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            set_hub(None)


_runtime: LiveRuntime | None = None


def set_runtime(runtime: LiveRuntime | None) -> None:
    """Install this worker's runtime (done once by the app's lifespan task)."""
    global _runtime
    _runtime = runtime


def get_runtime() -> LiveRuntime | None:
    """This worker's runtime, or None before the app started it (or in unit tests)."""
    return _runtime


def runtime() -> LiveRuntime:
    """This worker's runtime, for event handlers (which run only once the app has started)."""
    if _runtime is None:
        raise RuntimeError("the live runtime is not running (the app's lifespan task starts it)")
    return _runtime
