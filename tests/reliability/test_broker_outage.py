"""Redis (the broker) dies between commit and publish: the send still succeeds, tabs catch up.

Service level, no app server: the real :class:`RedisBroker` on a private Redis
that the test kills (SIGKILL) and restarts, and a real :class:`Hub`
subscribed to it whose deliveries are recorded.
"""

from __future__ import annotations

import asyncio
import inspect
import time

import pytest

from blabber.realtime import broker as broker_mod
from blabber.realtime import events as ev
from blabber.realtime.broker import RedisBroker
from blabber.realtime.hub import Hub
from blabber.services import accounts, messages, rooms
from tests.conftest import FAST, SQLITE_ONLY
from tests.test_hub import Recorder

pytestmark = [pytest.mark.timeout(60), SQLITE_ONLY]


def _hub(broker: RedisBroker, rec: Recorder) -> Hub:
    """A hub whose per-tab deliveries and room-feed events (if it has them) are recorded."""

    async def room_events(items):
        await rec("room-feed", items)

    if "on_room_events" in inspect.signature(Hub).parameters:
        return Hub(broker, rec, on_room_events=room_events)
    return Hub(broker, rec)


def _seen(rec: Recorder, predicate) -> bool:
    return any(predicate(e) for _, items in rec.calls for e in items)


async def _until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_send_commits_while_broker_is_down_and_tabs_resync_when_it_returns(
    session, redis_server
):
    broker = RedisBroker(redis_server.url)
    broker_mod.set_broker(broker)
    rec = Recorder()
    hub = _hub(broker, rec)
    task = asyncio.create_task(hub.run(retry_seconds=0.2))
    try:
        alice = accounts.sign_up(session, "alice", "password1", settings=FAST).user_id
        room = rooms.join_room(session, alice, "general")
        hub.watch("tab", user_id=alice, viewing_room=room.id, member_rooms=[room.id])
        await asyncio.wait_for(hub.connected.wait(), 5)

        def send(body: str, client_id: str):
            return messages.send_message(session, alice, room.id, body, client_id, settings=FAST)

        def live(body: str) -> bool:
            return _seen(rec, lambda e: e.type == ev.MESSAGE_CREATED and e.data.get("body") == body)

        await asyncio.to_thread(send, "before", "c-before")
        await _until(lambda: live("before"), 5, "live delivery before the outage")

        redis_server.stop()
        await _until(lambda: hub.degraded, 5, "the hub to notice the outage")
        started = time.monotonic()
        saved = await asyncio.to_thread(send, "during", "c-during")  # must not raise
        assert time.monotonic() - started < 3  # bounded by the broker's socket timeouts
        assert messages.room_window(session, room.id, 5)[0][-1].id == saved.id

        redis_server.start()
        await _until(
            lambda: any(e.type == "hub.resync" for items in rec.to("tab") for e in items),
            10,
            "a resync of the local tab once the broker is back",
        )
        assert not hub.degraded
        await asyncio.to_thread(send, "after", "c-after")
        await _until(lambda: live("after"), 5, "live delivery after the outage")
        assert not live("during")  # it was never published: the resync is how tabs get it
        bodies = [m.body for m in messages.room_window(session, room.id, 10)[0]]
        assert [b for b in bodies if b in ("before", "during", "after")] == [
            "before",
            "during",
            "after",
        ]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        broker_mod.set_broker(None)
        broker.close()
