"""Glue between this worker's hub and Reflex: deliver events into tab states.

Started once per worker process as a lifespan task (:func:`run_realtime`):
it creates the broker and the hub, consumes the broker, and every couple of
seconds forgets tabs whose websocket closed and heartbeats presence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import reflex as rx
import reflex.model  # imported for its side effect; see below
from reflex.state import StateUpdate
from reflex_base.event import Event as FrontendEvent

from blabber import db
from blabber.realtime.broker import get_broker
from blabber.realtime.events import Event
from blabber.realtime.hub import Hub, get_hub, set_hub
from blabber.services import presence
from blabber.settings import get_settings

# ``reflex.model`` (SQLModel, pygments lexers...) is imported lazily by Reflex
# while preparing the payload of the first handler event with arguments, so
# each worker's first ``send`` stalled for ~1-2 s (py-spy, bench/RESULTS.md).
# Importing it here moves that cost to worker start.

log = logging.getLogger(__name__)
PRESENCE_EVERY_SECONDS = 2.0
_app: rx.App | None = None
_TIMERS: set[asyncio.Task] = set()
# Presence syncs of this worker run one at a time: two concurrent syncs both
# insert the same new tab and the second fails on the primary key (seen on
# PostgreSQL as open_room errors when 100 tabs open a room at once). A sync
# that *started* after a caller asked covers that caller, so a burst of N
# opens costs ~2 syncs, not N.
_SYNC_LOCK = asyncio.Lock()
_syncs_started = 0


async def deliver(token: str, batch: list[Event]) -> None:
    """Apply a batch of events to one tab's ChatState and push the delta."""
    from blabber.state.chat import ChatState

    assert _app is not None
    async with _app.modify_state(rx.BaseStateToken(ident=token, cls=ChatState)) as state:
        chat = state if isinstance(state, ChatState) else await state.get_state(ChatState)
        frontend = await chat._apply_live_events(batch)
    if frontend and _app.event_namespace is not None:
        await _app.event_namespace.emit_update(
            update=StateUpdate(events=FrontendEvent.from_event_type(frontend)), token=token
        )


def _connected_tokens() -> set[str]:
    if _app is None or _app.event_namespace is None:
        return set()
    return set(_app.event_namespace.token_to_sid.keys())


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


def schedule_typing_expiry(token: str, delay: float) -> None:
    """Ask for a ``typing.expire`` event on ``token`` after ``delay`` seconds."""
    loop = asyncio.get_running_loop()

    def fire() -> None:
        task = loop.create_task(_quiet_deliver(token, [Event(type="typing.expire")]))
        _TIMERS.add(task)
        task.add_done_callback(_TIMERS.discard)

    loop.call_later(delay, fire)


async def _quiet_deliver(token: str, batch: list[Event]) -> None:
    with contextlib.suppress(Exception):
        await deliver(token, batch)


async def _presence_loop() -> None:
    while True:
        await asyncio.sleep(PRESENCE_EVERY_SECONDS)
        try:
            await sync_presence_now()
        except Exception as exc:  # DB down: try again next tick
            log.warning("presence sync failed: %s", exc)


async def run_realtime(app: rx.App) -> None:
    """Lifespan task: this worker's hub and presence heartbeat, until shutdown."""
    global _app
    _app = app
    hub = Hub(get_broker(), deliver)
    set_hub(hub)
    tasks = [asyncio.create_task(hub.run()), asyncio.create_task(_presence_loop())]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        set_hub(None)
