"""The per-worker hub: one broker subscription, a local index, batched delivery.

Each worker process runs one :class:`Hub`. Tabs served by this worker
register what they show (:meth:`Hub.watch`); the hub's single subscription
receives every event and routes it two ways:

- Everything a room's *viewers* share (new messages, typing, members and
  presence) goes once per batch to ``on_room_events``, which keeps one live
  feed per room and sends it to all viewers in one packet
  (``blabber.realtime.room_feeds``). This is the hot path and takes no
  per-tab state lock.
- What concerns one tab's own state (an unread badge for a room it is not
  viewing, being kicked, logging out elsewhere, an admin's ban list) goes to
  ``deliver(token, events)``, all of a tab's pending events in one call, in
  the order they arrived.

The hub knows nothing of Reflex or feeds: ``deliver`` and ``on_room_events``
are injected by the worker's live runtime (``blabber.realtime.runtime``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping

from blabber.realtime import events as ev
from blabber.realtime.broker import Broker, BrokerUnavailable
from blabber.realtime.events import Event
from blabber.realtime.unread import UNREAD_EVERY_SECONDS, UnreadCounts

log = logging.getLogger(__name__)

Deliver = Callable[[str, list[Event]], Awaitable[None]]
RoomEvents = Callable[[list[Event]], Awaitable[None]]
StatusChanged = Callable[[bool], Awaitable[None]]


async def _nothing(_: object) -> None:
    return None


@dataclasses.dataclass
class Tab:
    """What one browser tab on this worker shows."""

    user_id: int
    viewing_room: int | None = None
    member_rooms: frozenset[int] = frozenset()
    # The socket that proved the identity and registered the tab. The tab
    # token also names the tab's next socket (a reconnect, or anyone who read
    # it from a log), so a registration counts only while this socket is the
    # token's socket: ``prune`` and the delivery path drop it otherwise.
    sid: str = ""
    is_admin: bool = False  # of the viewed room: its ban list follows membership changes
    # Holds rows older than the room feed (paged in, or caught up from the
    # database): the feed cannot update those, so changes of the room's
    # messages come here too.
    history: bool = False
    # ...and that history joins the feed (not read far back, behind "Jump to
    # latest"): a feed roll-over hands such a tab what it drops (room_feeds).
    paged: bool = False
    # The people this tab's user has a direct conversation with: their
    # presence changes reach the tab (the sidebar's dots).
    contacts: frozenset[int] = frozenset()


class Hub:
    """Routes broker events to the tabs this worker holds."""

    def __init__(
        self,
        broker: Broker,
        deliver: Deliver,
        *,
        on_room_events: RoomEvents = _nothing,
        on_status: StatusChanged = _nothing,
        concurrency: int = 64,
    ) -> None:
        self.broker = broker
        self.deliver = deliver
        self.on_room_events = on_room_events
        self.on_status = on_status
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.tabs: dict[str, Tab] = {}
        self._by_room: dict[int, set[str]] = defaultdict(set)  # rooms a tab's user is in
        self._by_user: dict[int, set[str]] = defaultdict(set)
        self._sem = asyncio.Semaphore(concurrency)
        self.unread = UnreadCounts()
        self.connected = asyncio.Event()  # set while the subscription is live
        self.degraded = False

    # -- index ---------------------------------------------------------------
    def watch(
        self,
        token: str,
        user_id: int,
        viewing_room: int | None,
        member_rooms: Iterable[int],
        *,
        sid: str = "",
        contacts: Iterable[int] = (),
    ) -> None:
        """Register (or update) a tab: who it is, which room it shows, its user's rooms.

        Callers pass what the database said just now (the user's rooms, a
        room they are a member of), never what a tab's state remembers. The
        routing flags (``is_admin``, ``paged``, set by the states that own
        them) carry over while the tab shows the same room on the same socket.
        """
        old = self.tabs.get(token)
        same_view = bool(old and old.viewing_room == viewing_room and old.sid == sid)
        is_admin = bool(same_view and old and old.is_admin)
        paged = bool(same_view and old and old.paged)
        history = bool(same_view and old and old.history)
        self.forget(token)
        tab = Tab(
            user_id=user_id,
            viewing_room=viewing_room,
            member_rooms=frozenset(member_rooms),
            sid=sid,
            is_admin=is_admin,
            paged=paged,
            history=history,
            contacts=frozenset(contacts),
        )
        self.tabs[token] = tab
        self._by_user[user_id].add(token)
        for room_id in tab.member_rooms | ({viewing_room} if viewing_room else set()):
            self._by_room[room_id].add(token)

    def forget(self, token: str) -> None:
        """Drop a tab (closed, logged out, or re-registering)."""
        tab = self.tabs.pop(token, None)
        self.unread.forget(token)
        if tab is None:
            return
        self._discard(self._by_user, tab.user_id, token)
        for room_id in tab.member_rooms | ({tab.viewing_room} if tab.viewing_room else set()):
            self._discard(self._by_room, room_id, token)

    @staticmethod
    def _discard(index: dict[int, set[str]], key: int, token: str) -> None:
        tokens = index.get(key)
        if tokens is not None:
            tokens.discard(token)
            if not tokens:
                del index[key]

    def set_history(self, token: str, *, history: bool, paged: bool) -> None:
        """Whether the tab holds rows older than its room's feed, and whether they join it."""
        tab = self.tabs.get(token)
        if tab is not None:
            tab.history, tab.paged = history, paged

    def set_admin(self, token: str, is_admin: bool) -> None:
        """Whether the tab's user administers the room it shows."""
        tab = self.tabs.get(token)
        if tab is not None:
            tab.is_admin = is_admin

    def tabs_of(self, user_id: int) -> list[str]:
        """The local tabs signed in as ``user_id``."""
        return list(self._by_user.get(user_id, ()))

    def viewers(self, room_id: int) -> dict[str, Tab]:
        """The local tabs showing ``room_id`` now."""
        return {
            t: self.tabs[t]
            for t in self._by_room.get(room_id, ())
            if self.tabs[t].viewing_room == room_id
        }

    def viewed_rooms(self) -> set[int]:
        """Rooms some local tab is showing."""
        return {t.viewing_room for t in self.tabs.values() if t.viewing_room}

    def local_connections(self) -> dict[str, int]:
        """Token -> user id for every registered tab (presence heartbeat input)."""
        return {token: tab.user_id for token, tab in self.tabs.items()}

    def prune(self, connected: Mapping[str, str]) -> list[str]:
        """Forget tabs whose websocket is gone or replaced; returns the forgotten tokens.

        ``connected`` maps each connected tab token to its socket id.
        """
        gone = [t for t, tab in self.tabs.items() if not self.registered_by(t, connected.get(t))]
        for token in gone:
            self.forget(token)
        return gone

    def registered_by(self, token: str, sid: str | None) -> bool:
        """Whether ``token``'s registration was made by the socket ``sid`` (still its socket)."""
        tab = self.tabs.get(token)
        return tab is not None and sid is not None and (not tab.sid or tab.sid == sid)

    # -- routing -------------------------------------------------------------
    def targets(self, event: Event) -> set[str]:
        """The local tabs whose *own* state an event changes (room feeds aside)."""
        if event.type in (ev.USER_REMOVED, ev.SESSION_REVOKED):
            return set(self._by_user.get(event.user_id or -1, ()))
        room_tabs = self._by_room.get(event.room_id or -1, set())
        if event.type == ev.MESSAGE_CREATED:  # viewers see it in the feed; others count it
            return {t for t in room_tabs if self.tabs[t].viewing_room != event.room_id}
        if event.type == ev.MESSAGE_CHANGED:  # the feed updates its rows; history is per tab
            return {
                t
                for t in room_tabs
                if self.tabs[t].viewing_room == event.room_id and self.tabs[t].history
            }
        if event.type == ev.MEMBERSHIP_CHANGED:
            tokens = set(self._by_user.get(event.user_id, set())) if event.user_id else set()
            return tokens | {
                t
                for t in room_tabs
                if self.tabs[t].viewing_room == event.room_id and self.tabs[t].is_admin
            }
        if event.type == ev.ROOM_CHANGED:  # every member's sidebar; its viewers follow it
            return set(room_tabs)
        if event.type == ev.PRESENCE_CHANGED:  # the sidebar's dots of direct conversations
            changed = {c.get("user_id") for c in event.data.get("changes", [])}
            return {t for t, tab in self.tabs.items() if tab.contacts & changed}
        return set()  # typing: room feeds only

    async def dispatch(self, batch: list[Event]) -> None:
        """Deliver a batch: room feeds first, then each target tab its events in one call."""
        try:
            await self.on_room_events(batch)
        except Exception:  # a feed bug must not stop per-tab delivery
            log.exception("room feed update failed")
        per_tab: dict[str, list[Event]] = defaultdict(list)
        for event in batch:
            if event.type == ev.MESSAGE_CREATED:
                self._count_unread(event)
                continue
            for token in self.targets(event):
                per_tab[token].append(event)
        # Leading edge: a tab that has heard nothing for a while hears now;
        # in a busy spell its counts wait for the next flush.
        now = time.monotonic()
        for token in self.unread.due(now):
            per_tab[token].append(self.unread.take(token, now))

        await asyncio.gather(*(self._one(t, items) for t, items in per_tab.items()))

    async def _one(self, token: str, items: list[Event]) -> None:
        async with self._sem:
            try:
                await self.deliver(token, items)
            except Exception:  # one broken tab must not stop the others
                log.exception("delivery to a tab failed")

    # -- unread counts ---------------------------------------------------------
    def _count_unread(self, event: Event) -> None:
        """Count a message for the member tabs not viewing its room (``UnreadCounts``).

        The author's own tabs and system lines ("bob joined") do not count,
        matching ``rooms.list_my_rooms``. A message that mentions the tab's
        user also counts as a mention (the server decided who it names:
        ``Event.mentioned``).
        """
        if event.data.get("kind") != "user":
            return
        mentioned = frozenset(event.mentioned)
        for token in self.targets(event):
            user_id = self.tabs[token].user_id
            if user_id != event.user_id:
                self.unread.add(token, event.room_id or 0, event.data, user_id in mentioned)

    async def flush_unread(self) -> None:
        """Deliver the unread counts that waited out a busy spell."""
        now = time.monotonic()
        due = self.unread.due(now)
        await asyncio.gather(*(self._one(t, [self.unread.take(t, now)]) for t in due))

    async def run_unread_flusher(self) -> None:
        """Flush waiting unread counts forever (a lifespan task next to :meth:`run`)."""
        while True:
            await asyncio.sleep(UNREAD_EVERY_SECONDS / 4)
            await self.flush_unread()

    # -- lifecycle -----------------------------------------------------------
    async def run(self, *, retry_seconds: float = 1.0) -> None:
        """Consume the broker forever; reconnect (and flag degraded) on failure."""
        while True:
            try:
                async with self.broker.subscribe() as stream:
                    self.connected.set()
                    if self.degraded:
                        log.warning("broker back; live delivery resumed")
                        self.degraded = False
                        await self._on_recovered()
                        await self._status(False)
                    await self._consume(stream)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down, connection reset...
                self.connected.clear()
                if not self.degraded:
                    log.warning("broker subscription lost (%s); retrying", exc)
                    self.degraded = True
                    await self._status(True)
                await asyncio.sleep(retry_seconds)

    async def _status(self, degraded: bool) -> None:
        try:
            await self.on_status(degraded)
        except Exception:
            log.exception("announcing the live-delivery status failed")

    async def _on_recovered(self) -> None:
        """Room feeds and every local tab catch up from the database."""
        resync = Event(type=ev.RESYNC)
        with contextlib.suppress(Exception):
            await self.on_room_events([resync])
        await asyncio.gather(*(self._safe_deliver(t, [resync]) for t in list(self.tabs)))

    async def _safe_deliver(self, token: str, items: list[Event]) -> None:
        with contextlib.suppress(Exception):
            await self.deliver(token, items)

    async def _consume(self, stream) -> None:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        reader_error: list[BaseException] = []

        async def reader() -> None:
            try:
                async for event in stream:
                    queue.put_nowait(event)
            except BaseException as exc:  # surface to the consumer loop
                reader_error.append(exc)
                queue.put_nowait(Event(type="hub.reader_stopped"))

        task = asyncio.create_task(reader())
        try:
            while True:
                batch = [await queue.get()]
                while not queue.empty():
                    batch.append(queue.get_nowait())
                stop = any(e.type == "hub.reader_stopped" for e in batch)
                await self.dispatch([e for e in batch if e.type != "hub.reader_stopped"])
                if stop:
                    raise reader_error[0] if reader_error else BrokerUnavailable("reader stopped")
        finally:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


_hub: Hub | None = None


def set_hub(hub: Hub | None) -> None:
    """Install this worker's hub (done once by the app's lifespan task)."""
    global _hub
    _hub = hub


def get_hub() -> Hub | None:
    """This worker's hub, or None before the app started it."""
    return _hub
