"""Every new message reaches a worker's viewers, in order (blabber/state/live.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from blabber.realtime.broker import MemoryBroker
from blabber.realtime.feeds import RoomFeed
from blabber.realtime.hub import Hub, get_hub, set_hub
from blabber.services.views import MessageView
from blabber.state import live


def _view(message_id: int) -> dict[str, Any]:
    return {"id": message_id, "author": "bob", "body": f"m{message_id}"}


async def test_a_backlog_bigger_than_the_window_reaches_viewers_in_full(monkeypatch):
    """A worker catching up under overload gets many messages in one batch.

    Each packet holds at most the newest ``window`` messages, so one packet
    for the whole batch would roll the oldest out of the feed unseen (the
    bench's overload step counted them lost).
    """
    packets: list[dict[str, Any]] = []

    async def capture(payload: dict[str, Any], *, to: str | None, skip=None) -> None:
        packets.append(payload)

    async def deliver(*_: Any) -> None:
        return None

    monkeypatch.setattr(live, "_emit", capture)
    feed = RoomFeed(room_id=7, room_name="ops", window=20, tail_max=6, loaded=True)
    monkeypatch.setitem(live._feeds, 7, feed)
    previous = get_hub()
    set_hub(Hub(MemoryBroker(), deliver))
    try:
        await live._publish_messages(7, [_view(i) for i in range(1, 131)])
    finally:
        set_hub(previous)

    shown = {m["id"] for p in packets for m in [*p.get("recent", []), *p["tail"]]}
    assert shown == set(range(1, 131))
    assert len(packets) == 7  # 130 messages, 20 at a time
    assert feed.last_id == 130 and len(feed.messages) <= 20


async def _echoes(monkeypatch, *, degraded: bool) -> list[int]:
    """Message ids a worker shows from ``publish_local`` alone (nothing from the broker)."""
    shown: list[int] = []

    async def capture(payload: dict[str, Any], *, to: str | None, skip=None) -> None:
        shown.extend(m["id"] for m in [*payload.get("recent", []), *payload["tail"]])

    async def deliver(*_: Any) -> None:
        return None

    monkeypatch.setattr(live, "_emit", capture)
    monkeypatch.setitem(live._feeds, 7, RoomFeed(room_id=7, room_name="ops", loaded=True))
    hub = Hub(MemoryBroker(), deliver)
    hub.degraded = degraded
    previous = get_hub()
    set_hub(hub)
    try:
        view = MessageView(id=41, room_id=7, author="bob", kind="text", body="hi", created_at="")
        await live.publish_local(view)
        await asyncio.sleep(0.05)  # the echo runs in the background
    finally:
        set_hub(previous)
    return shown


async def test_own_messages_come_from_the_broker_like_everyone_elses(monkeypatch):
    """An echo would overtake older messages still queued from other workers."""
    assert await _echoes(monkeypatch, degraded=False) == []


async def test_own_messages_are_echoed_while_the_broker_is_down(monkeypatch):
    assert await _echoes(monkeypatch, degraded=True) == [41]
