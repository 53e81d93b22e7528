"""The one module that knows Reflex's packet format and its socket.io rooms.

The worker's live runtime (:mod:`blabber.realtime.runtime`) speaks to tabs
through the small :class:`Transport` interface; :class:`ReflexTransport`
implements it on a running ``rx.App``:

- **Feed packets**: a ``FeedState`` delta in the exact shape Reflex sends a
  ``StateUpdate`` (``{"delta": {<state full name>: {<var>_rx_state_: value}}}``),
  encoded once by socket.io and sent to one socket or to a socket.io room of
  a feed's viewers. No tab state is locked or loaded for it.
- **Feed rooms**: a socket.io room per viewed feed (``feed:<room id>``),
  entered and left per socket id.
- **Tabs**: which socket holds a tab token on this worker, and frontend
  events (redirects, toasts) sent to one tab after its state changed.

``tests/test_transport.py`` pins the packet to Reflex's own serialisation,
so an upgrade that changes it fails a test instead of silently stopping
delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import reflex as rx
from reflex.state import StateUpdate
from reflex_base.constants.state import FIELD_MARKER
from reflex_base.event import Event as FrontendEvent

Payload = dict[str, Any]
FEED_ROOM_PREFIX = "feed:"


def feed_room(room_id: int) -> str:
    """The socket.io room of a feed's viewers on this worker."""
    return f"{FEED_ROOM_PREFIX}{room_id}"


class Transport(Protocol):
    """What the live runtime needs from the websocket server."""

    def sid_of(self, token: str) -> str | None:
        """The socket currently holding ``token`` on this worker, if any."""

    def connected(self) -> dict[str, str]:
        """Tab token -> socket id of every socket on this worker."""

    def feed_rooms_of(self, sid: str) -> list[str]:
        """The feed rooms ``sid`` is in."""

    async def enter(self, sid: str, room: str) -> None:
        """Put ``sid`` into ``room``."""

    async def leave(self, sid: str, room: str) -> None:
        """Take ``sid`` out of ``room``."""

    async def send_feed(
        self, payload: Payload, *, to: str, skip: Sequence[str] | None = None
    ) -> None:
        """Send a feed payload to one socket or one room (minus ``skip``), encoded once."""

    async def broadcast_feed(self, payload: Payload) -> None:
        """Send a feed payload to every socket on this worker."""

    async def send_frontend_events(self, token: str, events: list) -> None:
        """Send frontend events (redirects, toasts) to one tab."""


def feed_packet(state_name: str, payload: Payload) -> dict[str, Any]:
    """A delta of ``state_name`` carrying ``payload``, as Reflex puts it on the wire."""
    return {"delta": {state_name: {k + FIELD_MARKER: v for k, v in payload.items()}}}


class ReflexTransport:
    """:class:`Transport` on a running Reflex app (its socket.io server and token map)."""

    def __init__(self, app: rx.App, feed_state_name: str) -> None:
        """``feed_state_name`` is ``FeedState.get_full_name()`` (the vars feed packets set)."""
        self.app = app
        self.feed_state_name = feed_state_name

    @property
    def _namespace(self) -> str:
        return self.app.event_namespace.namespace if self.app.event_namespace else "/_event"

    def sid_of(self, token: str) -> str | None:  # noqa: D102
        if self.app.event_namespace is None:
            return None
        return self.app.event_namespace.token_to_sid.get(token)

    def connected(self) -> dict[str, str]:  # noqa: D102
        if self.app.event_namespace is None:
            return {}
        return dict(self.app.event_namespace.token_to_sid)

    def feed_rooms_of(self, sid: str) -> list[str]:  # noqa: D102
        if self.app.sio is None:
            return []
        rooms = self.app.sio.rooms(sid, self._namespace)
        return [str(r) for r in rooms if str(r).startswith(FEED_ROOM_PREFIX)]

    async def enter(self, sid: str, room: str) -> None:  # noqa: D102
        if self.app.sio is not None:
            await self.app.sio.enter_room(sid, room, self._namespace)

    async def leave(self, sid: str, room: str) -> None:  # noqa: D102
        if self.app.sio is not None:
            await self.app.sio.leave_room(sid, room, self._namespace)

    async def send_feed(  # noqa: D102
        self, payload: Payload, *, to: str, skip: Sequence[str] | None = None
    ) -> None:
        await self._emit(payload, to=to, skip=skip)

    async def broadcast_feed(self, payload: Payload) -> None:  # noqa: D102
        await self._emit(payload, to=None, skip=None)

    async def _emit(self, payload: Payload, *, to: str | None, skip: Sequence[str] | None) -> None:
        if self.app.sio is None or self.app.event_namespace is None:
            return
        await self.app.sio.emit(
            "event",
            feed_packet(self.feed_state_name, payload),
            to=to,
            skip_sid=list(skip) if skip else None,
            namespace=self._namespace,
        )

    async def send_frontend_events(self, token: str, events: list) -> None:  # noqa: D102
        if events and self.app.event_namespace is not None:
            await self.app.event_namespace.emit_update(
                update=StateUpdate(events=FrontendEvent.from_event_type(events)), token=token
            )
