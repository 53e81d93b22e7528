"""Publish/subscribe between worker processes, chosen by URL.

``memory://`` keeps everything in this process (the default, and the test
fake: a real implementation, not a mock); ``redis://`` uses Redis pub/sub so
every worker process sees every event. Each worker holds **one**
subscription (see ``hub.py``), never one per tab.

``publish`` is synchronous and thread-safe because services publish from the
worker thread that just committed; ``subscribe`` is async.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator

from blabber.realtime.events import Event

log = logging.getLogger(__name__)
CHANNEL_PREFIX = "blabber:events"


def channel_for(db_index: int) -> str:
    """The pub/sub channel of the deployment whose Redis database is ``db_index``.

    Redis scopes keys (Reflex's tab states, rate limits) by database number
    but pub/sub is server-wide; naming the channel after the database keeps
    two deployments (or two test processes) that share one Redis server on
    different databases from delivering each other's events.
    """
    return f"{CHANNEL_PREFIX}:{db_index}"


class BrokerUnavailable(RuntimeError):
    """The broker could not take the event (e.g. Redis is down)."""


class Broker(abc.ABC):
    """Carries :class:`Event` values from publishers to every subscriber."""

    @abc.abstractmethod
    def publish(self, event: Event) -> None:
        """Send ``event`` to all subscribers; thread-safe; may raise BrokerUnavailable."""

    async def publish_async(self, event: Event) -> None:
        """Publish from the event loop without blocking it."""
        await asyncio.to_thread(self.publish, event)

    @abc.abstractmethod
    def subscribe(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Event]]:
        """``async with broker.subscribe() as events: async for e in events``."""

    def close(self) -> None:  # noqa: B027 - optional hook, most brokers hold nothing
        """Release connections."""


class MemoryBroker(Broker):
    """In-process broker: each subscriber gets an asyncio queue on its own loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]] = []

    def publish(self, event: Event) -> None:  # noqa: D102
        with self._lock:
            targets = list(self._queues)
        for loop, queue in targets:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                queue.put_nowait(event)
            else:
                with contextlib.suppress(RuntimeError):  # loop closed
                    loop.call_soon_threadsafe(queue.put_nowait, event)

    async def publish_async(self, event: Event) -> None:  # noqa: D102
        self.publish(event)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Event]]:  # noqa: D102
        queue: asyncio.Queue[Event] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._queues.append(entry)

        async def events() -> AsyncIterator[Event]:
            while True:
                yield await queue.get()

        try:
            yield events()
        finally:
            with self._lock:
                self._queues.remove(entry)


class RedisBroker(Broker):
    """Redis pub/sub on one channel per Redis database; publishes through a small sync pool."""

    def __init__(self, url: str) -> None:
        import redis

        self._url = url
        self._sync = redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=10
        )
        self.channel = channel_for(int(self._sync.connection_pool.connection_kwargs.get("db", 0)))

    def publish(self, event: Event) -> None:  # noqa: D102
        import redis

        try:
            self._sync.publish(self.channel, event.to_json())
        except redis.RedisError as exc:
            raise BrokerUnavailable(str(exc)) from exc

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Event]]:  # noqa: D102
        import redis
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self._url, socket_connect_timeout=2)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
        except redis.RedisError as exc:  # same contract as publish: BrokerUnavailable
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()
            raise BrokerUnavailable(str(exc)) from exc

        async def events() -> AsyncIterator[Event]:
            try:
                async for item in pubsub.listen():
                    if item.get("type") != "message":
                        continue
                    try:
                        yield Event.from_json(item["data"])
                    except ValueError:
                        log.warning("dropping malformed event from redis")
            except redis.RedisError as exc:
                raise BrokerUnavailable(str(exc)) from exc

        try:
            yield events()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    def close(self) -> None:  # noqa: D102
        self._sync.close()


def broker_from_url(url: str) -> Broker:
    """``memory://`` or ``redis://...``."""
    if url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url)
    raise ValueError(f"unsupported broker url: {url!r}")


_broker: Broker | None = None
_broker_lock = threading.Lock()


def get_broker() -> Broker:
    """The process-wide broker for the configured URL."""
    global _broker
    with _broker_lock:
        if _broker is None:
            from blabber.settings import get_settings

            _broker = broker_from_url(get_settings().broker_url)
        return _broker


def set_broker(broker: Broker | None) -> None:
    """Replace the process-wide broker (tests, and the app at start-up)."""
    global _broker
    with _broker_lock:
        _broker = broker
