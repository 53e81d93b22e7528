"""The per-worker hub: one broker subscription, a local index, batched delivery.

Each worker process runs one :class:`Hub`. Tabs served by this worker
register what they show (:meth:`Hub.watch`); the hub's single subscription
receives every event, looks up the local tabs it concerns, and hands each
tab **all** its pending events in one call of ``deliver(token, events)``, so a
busy room costs one state update per tab per batch, not per message, and
events for a tab are applied in the order they arrived.

The hub knows nothing of Reflex: ``deliver`` and ``connected_tokens`` are
injected by the state layer (``blabber.state.live``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable

from blabber.realtime import events as ev
from blabber.realtime.broker import Broker, BrokerUnavailable
from blabber.realtime.events import Event

log = logging.getLogger(__name__)

Deliver = Callable[[str, list[Event]], Awaitable[None]]
ConnectedTokens = Callable[[], Collection[str]]


@dataclasses.dataclass
class Tab:
    """What one browser tab on this worker shows."""

    user_id: int
    viewing_room: int | None = None
    member_rooms: frozenset[int] = frozenset()


class Hub:
    """Routes broker events to the tabs this worker holds."""

    def __init__(self, broker: Broker, deliver: Deliver, *, concurrency: int = 64) -> None:
        self.broker = broker
        self.deliver = deliver
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.tabs: dict[str, Tab] = {}
        self._by_room: dict[int, set[str]] = defaultdict(set)  # rooms a tab's user is in
        self._by_user: dict[int, set[str]] = defaultdict(set)
        self._sem = asyncio.Semaphore(concurrency)
        self.connected = asyncio.Event()  # set while the subscription is live
        self.degraded = False

    # -- index ---------------------------------------------------------------
    def watch(
        self, token: str, user_id: int, viewing_room: int | None, member_rooms: Iterable[int]
    ) -> None:
        """Register (or update) a tab: who it is, which room it shows, its user's rooms."""
        self.forget(token)
        tab = Tab(user_id=user_id, viewing_room=viewing_room, member_rooms=frozenset(member_rooms))
        self.tabs[token] = tab
        self._by_user[user_id].add(token)
        for room_id in tab.member_rooms | ({viewing_room} if viewing_room else set()):
            self._by_room[room_id].add(token)

    def forget(self, token: str) -> None:
        """Drop a tab (closed, logged out, or re-registering)."""
        tab = self.tabs.pop(token, None)
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

    def local_connections(self) -> dict[str, int]:
        """Token -> user id for every registered tab (presence heartbeat input)."""
        return {token: tab.user_id for token, tab in self.tabs.items()}

    def prune(self, connected: Collection[str]) -> list[str]:
        """Forget tabs whose websocket is gone; returns the forgotten tokens."""
        gone = [t for t in self.tabs if t not in connected]
        for token in gone:
            self.forget(token)
        return gone

    # -- routing -------------------------------------------------------------
    def targets(self, event: Event) -> set[str]:
        """The local tabs an event concerns."""
        if event.type in (ev.USER_REMOVED, ev.SESSION_REVOKED):
            return set(self._by_user.get(event.user_id or -1, ()))
        if event.type == ev.PRESENCE_CHANGED:
            rooms = event.data.get("room_ids", [])
            return {
                t for r in rooms for t in self._by_room.get(r, ()) if self.tabs[t].viewing_room == r
            }
        if event.type == ev.TYPING:
            return {
                t
                for t in self._by_room.get(event.room_id or -1, ())
                if self.tabs[t].viewing_room == event.room_id
                and self.tabs[t].user_id != event.user_id
            }
        tokens = set(self._by_room.get(event.room_id or -1, ()))
        if event.type == ev.MEMBERSHIP_CHANGED and event.user_id is not None:
            tokens |= self._by_user.get(event.user_id, set())
        return tokens

    async def dispatch(self, batch: list[Event]) -> None:
        """Deliver a batch: each target tab gets its events in order, in one call."""
        per_tab: dict[str, list[Event]] = defaultdict(list)
        for event in batch:
            for token in self.targets(event):
                per_tab[token].append(event)

        async def one(token: str, items: list[Event]) -> None:
            async with self._sem:
                try:
                    await self.deliver(token, items)
                except Exception:  # one broken tab must not stop the others
                    log.exception("delivery to a tab failed")

        await asyncio.gather(*(one(t, items) for t, items in per_tab.items()))

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
                    await self._consume(stream)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis down, connection reset...
                self.connected.clear()
                if not self.degraded:
                    log.warning("broker subscription lost (%s); retrying", exc)
                self.degraded = True
                await asyncio.sleep(retry_seconds)

    async def _on_recovered(self) -> None:
        """Tell every local tab to catch up from the database."""
        resync = Event(type="hub.resync")
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
