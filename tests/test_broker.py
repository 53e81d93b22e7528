"""memory:// and redis:// brokers (blabber.realtime.broker)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import uuid

import pytest

from blabber.realtime.broker import (
    BrokerUnavailable,
    MemoryBroker,
    RedisBroker,
    broker_from_url,
)
from blabber.realtime.events import Event
from tests.conftest import PROJECT_ROOT


async def next_matching(stream, nonce: str, timeout: float = 10.0) -> Event:
    async def find() -> Event:
        async for event in stream:
            if event.data.get("nonce") == nonce:
                return event
        raise AssertionError("stream ended")

    return await asyncio.wait_for(find(), timeout)


def test_broker_from_url():
    assert isinstance(broker_from_url("memory://"), MemoryBroker)
    assert isinstance(broker_from_url("redis://127.0.0.1:1/0"), RedisBroker)
    with pytest.raises(ValueError):
        broker_from_url("kafka://x")


async def test_memory_publish_reaches_every_subscriber_in_order():
    broker = MemoryBroker()
    async with broker.subscribe() as one, broker.subscribe() as two:
        for i in range(3):
            broker.publish(Event(type="t", room_id=i))
        for stream in (one, two):
            got = [await asyncio.wait_for(anext(stream), 2) for _ in range(3)]
            assert [e.room_id for e in got] == [0, 1, 2]


async def test_memory_publish_from_another_thread():
    broker = MemoryBroker()
    async with broker.subscribe() as stream:
        thread = threading.Thread(target=broker.publish, args=(Event(type="t", room_id=7),))
        thread.start()
        event = await asyncio.wait_for(anext(stream), 2)
        thread.join()
        assert event == Event(type="t", room_id=7)
        await broker.publish_async(Event(type="t", room_id=8))
        assert (await asyncio.wait_for(anext(stream), 2)).room_id == 8


async def test_memory_unsubscribed_gets_nothing_and_publish_without_subscribers_is_fine():
    broker = MemoryBroker()
    broker.publish(Event(type="nobody listens"))
    async with broker.subscribe():
        pass
    broker.publish(Event(type="after"))
    assert broker._queues == []


@pytest.mark.redis
async def test_redis_event_from_another_process_reaches_subscriber(redis_url):
    broker = RedisBroker(redis_url)
    nonce = uuid.uuid4().hex
    script = (
        "import sys\n"
        "from blabber.realtime.broker import RedisBroker\n"
        "from blabber.realtime.events import Event\n"
        "b = RedisBroker(sys.argv[1])\n"
        "b.publish(Event(type='message.created', room_id=42, data={'nonce': sys.argv[2]}))\n"
        "b.close()\n"
    )
    try:
        async with broker.subscribe() as stream:
            proc = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-c", script, redis_url, nonce],
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert proc.returncode == 0, proc.stderr
            event = await next_matching(stream, nonce)
        assert event == Event(type="message.created", room_id=42, data={"nonce": nonce})
    finally:
        broker.close()


@pytest.mark.redis
async def test_redis_publish_and_subscribe_in_process(redis_url):
    broker = RedisBroker(redis_url)
    nonce = uuid.uuid4().hex
    try:
        async with broker.subscribe() as stream:
            await broker.publish_async(Event(type="typing", room_id=1, data={"nonce": nonce}))
            assert (await next_matching(stream, nonce)).type == "typing"
    finally:
        broker.close()


@pytest.mark.redis
async def test_redis_deployments_on_other_databases_never_hear_each_other(redis_url):
    """Pub/sub is server-wide in Redis; the channel is per database (``channel_for``)."""
    other_db = redis_url.rsplit("/", 1)[0] + "/14"
    ours, theirs = RedisBroker(redis_url), RedisBroker(other_db)
    assert ours.channel != theirs.channel
    nonce = uuid.uuid4().hex
    try:
        async with ours.subscribe() as stream:
            theirs.publish(Event(type="typing", room_id=1, data={"nonce": f"{nonce}-theirs"}))
            ours.publish(Event(type="typing", room_id=1, data={"nonce": nonce}))
            # Theirs was published (and fanned out by Redis) before ours was
            # sent, so by the time ours arrives theirs would have too.
            heard = []

            async def until_ours() -> None:
                async for event in stream:
                    heard.append(event.data.get("nonce"))
                    if event.data.get("nonce") == nonce:
                        return

            await asyncio.wait_for(until_ours(), 10)
            assert f"{nonce}-theirs" not in heard
    finally:
        ours.close()
        theirs.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_redis_publish_to_closed_port_raises_broker_unavailable():
    broker = RedisBroker(f"redis://127.0.0.1:{_closed_port()}/0")
    try:
        with pytest.raises(BrokerUnavailable):
            broker.publish(Event(type="x"))
    finally:
        broker.close()


async def test_redis_subscribe_to_closed_port_raises_broker_unavailable():
    broker = RedisBroker(f"redis://127.0.0.1:{_closed_port()}/0")
    try:
        with pytest.raises(BrokerUnavailable):
            async with broker.subscribe():
                pass
    finally:
        broker.close()
