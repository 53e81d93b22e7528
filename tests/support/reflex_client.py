"""A minimal client of Reflex's websocket protocol, for protocol-level tests.

It does what the browser's ``state.js`` does (connect to ``/_event`` with a
token, hydrate, send events with router data, merge state deltas) so tests can
send *crafted* events that no button would send and inspect every delta the
server pushed back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import socketio

from blabber.realtime.shown import shown_from_vars

ROOT = "reflex___state____state"
AUTH = f"{ROOT}.blabber___state___auth____auth_state"
CHAT = f"{ROOT}.blabber___state___chat____chat_state"
# The chat screen's feature states (substates of CHAT); ``var(CHAT, name)`` reads any of them.
SIDEBAR = f"{CHAT}.blabber___state___sidebar____sidebar_state"
ROOM = f"{CHAT}.blabber___state___room____room_state"
COMPOSER = f"{CHAT}.blabber___state___composer____composer_state"
ADMIN = f"{CHAT}.blabber___state___admin____admin_state"
MESSAGE_ACTIONS = f"{CHAT}.blabber___state___message_actions____message_actions_state"
PEOPLE = f"{CHAT}.blabber___state___people____people_state"
NOTIFICATIONS = f"{CHAT}.blabber___state___notifications____notifications_state"
FEED = f"{ROOT}.blabber___state___feed____feed_state"
ON_LOAD = f"{ROOT}.reflex___state____on_load_internal_state.on_load_internal"
UPDATE_VARS = f"{ROOT}.reflex___state____update_vars_internal_state.update_vars_internal"
NAMESPACE = "/_event"  # socket.io-client treats the URL path as the namespace
SESSION_COOKIE = "blabber_session"  # blabber/session_cookie.py


class ReflexClient:
    """One simulated browser tab."""

    def __init__(
        self, base_url: str, origin: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = origin or base_url.replace("127.0.0.1", "localhost")
        self.headers = headers or {}  # extra handshake headers, e.g. X-Forwarded-For
        # The browser's session cookie (HttpOnly: only the session endpoints set
        # it); sent in the websocket handshake, where the server reads it.
        self.session_token = ""
        # Every raw ``event`` message received, in order, exactly as decoded.
        self.received: list[dict[str, Any]] = []
        self.token = str(uuid.uuid4())
        self.path = "/"
        self.state: dict[str, dict[str, Any]] = {}
        self.deltas: list[dict[str, Any]] = []
        self.frontend_events: list[dict[str, Any]] = []
        self._resuming = False
        self._changed = asyncio.Event()
        self._pongs = 0
        self.sio = self._new_socket()

    def _new_socket(self) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False)
        sio.on("event", self._on_update, namespace=NAMESPACE)
        sio.on("ping", self._on_pong, namespace=NAMESPACE)  # Reflex answers "ping" with "ping"
        return sio

    async def _on_pong(self, *_: Any) -> None:
        self._pongs += 1
        self._changed.set()

    async def _on_update(self, update: dict[str, Any]) -> None:
        self.received.append(update)
        delta = update.get("delta") or {}
        self.deltas.append(delta)
        for substate, values in delta.items():
            self.state.setdefault(substate, {}).update(values)
        events = update.get("events") or []
        self.frontend_events.extend(events)
        for event in events:
            await self._run_browser_side(event)
        self._changed.set()

    async def _run_browser_side(self, event: dict[str, Any]) -> None:
        """Do what ``state.js`` does with the events Blabber's recovery sends back.

        A handler that finds the tab's server state lost answers with
        ``ChatState.resume``; that answers with the page's load handler.
        The browser queues both back to the server. Other events (toasts,
        scripts, redirects) need no answer here.
        """
        name = str(event.get("name", ""))
        if name == f"{CHAT}.resume":
            self._resuming = True
            await self.emit_raw(name, event.get("payload") or {})
        elif self._resuming and name.endswith((".open_room", ".open_home")):
            self._resuming = False
            await self.emit_raw(name, event.get("payload") or {})

    def var(self, substate: str, name: str, default: Any = None) -> Any:
        """The last value the server sent for ``name`` in ``substate`` or one of its substates.

        The ``_rx_state_`` suffix is optional. Var names are unique along a
        state's family (Reflex refuses a substate var shadowing its parent's),
        so ``var(CHAT, "composer_error")`` finds it in the composer's state.
        """
        for key in (name + "_rx_state_", name):
            for state_name, values in self.state.items():
                in_family = state_name == substate or state_name.startswith(substate + ".")
                if in_family and key in values:
                    return values[key]
        return default

    async def connect(
        self, path: str = "/", storage: dict[str, Any] | None = None, *, hydrate: bool = True
    ) -> None:
        """Open the socket and hydrate like a page load of ``path``.

        ``hydrate=False`` opens the socket only, as a crafted client may: the
        server then holds whatever state it remembers for this tab token.
        """
        self.path = path
        await self.sio.connect(
            f"{self.base_url}?token={self.token}",
            socketio_path="/_event",
            transports=["websocket"],
            headers={**self.headers, **self._cookie_header(), "Origin": self.origin},
            namespaces=[NAMESPACE],
            wait_timeout=10,
        )
        if hydrate:
            await self.emit_raw(f"{ROOT}.hydrate_and_load", {"vars": storage or {}})

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": f"{SESSION_COOKIE}={self.session_token}"} if self.session_token else {}

    async def reopen_without_hydrate(self) -> None:
        """Close the socket and open a new one with the same tab token, sending nothing."""
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
        self.sio = self._new_socket()
        await self.connect(self.path, hydrate=False)

    async def set_storage(self, values: dict[str, Any]) -> None:
        """Write client-storage vars as ``state.js`` does when storage changes."""
        await self.emit_raw(UPDATE_VARS, {"vars": values})

    def storage(self) -> dict[str, Any]:
        """What the browser's storage holds for this tab and re-sends on hydrate.

        sessionStorage: the room feed's catch-up cursor (``FeedState.seen``),
        as ``state.js`` stores every delta of a client-storage var. (The
        session is a cookie, sent with every handshake.)
        """
        seen = self.var(FEED, "seen", "")
        return {f"{FEED}.seen_rx_state_": seen} if seen else {}

    async def reconnect(self, attempts: int = 40, delay: float = 0.25) -> None:
        """Reconnect like ``state.js`` after a dropped socket: same tab token, storage re-sent.

        A fresh socket (the old one may be dead); the page's path is kept, so
        the server's hydrate + on_load rebuild the tab as the browser would.
        Retries while the server refuses (a worker restarting).
        """
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
        storage = self.storage()
        for attempt in range(attempts):
            self.sio = self._new_socket()
            try:
                await self.connect(self.path, storage)
                return
            except socketio.exceptions.ConnectionError:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(delay)

    @property
    def connected(self) -> bool:
        """Whether the socket is (still) open."""
        return bool(self.sio.connected)

    def toasts(self) -> list[str]:
        """Text of every toast/alert the server asked this tab to show."""
        return [
            json.dumps(e.get("payload", {}))
            for e in self.frontend_events
            if "toast" in json.dumps(e)
        ]

    async def navigate(self, path: str) -> None:
        """Like a client-side navigation: run the page's on_load handlers."""
        self.path = path
        await self.emit_raw(ON_LOAD, {})

    async def emit_raw(self, name: str, payload: dict[str, Any]) -> None:
        """Send any event, exactly as the browser would frame it."""
        event = {
            "name": name,
            "payload": payload,
            "router_data": {"pathname": self.path, "asPath": self.path},
        }
        await self.sio.emit("event", event, namespace=NAMESPACE)

    async def call(self, substate: str, handler: str, **payload: Any) -> None:
        """Call ``<substate>.<handler>(**payload)``."""
        await self.emit_raw(f"{substate}.{handler}", payload)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds after some update, or fail."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("condition not met; last state: " + repr(self.state)[-2000:])
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))
            except TimeoutError:
                pass

    async def processed(self, timeout: float = 15.0) -> None:
        """Wait until the server has handled every event this tab sent so far.

        Reflex handles a tab's events one at a time, in order; so once the
        answer to a last event comes back, every earlier one is done. That
        last event flips Reflex's own ``is_hydrated`` (off, then on), which
        always answers with a delta and means nothing to Blabber. The
        positive control for a negative check about a handler's effect.
        """
        since = len(self.received)
        for value in (False, True):
            await self.emit_raw(f"{ROOT}.set_is_hydrated", {"value": value})

        def answered() -> bool:
            deltas = (u.get("delta") or {} for u in self.received[since:])
            return any((d.get(ROOT) or {}).get("is_hydrated_rx_state_") is True for d in deltas)

        await self.wait_for(answered, timeout)

    async def barrier(self, timeout: float = 10.0) -> None:
        """Wait until everything the server had sent this socket so far has arrived.

        Reflex answers a ``ping`` on the socket's receive loop, queued behind
        every packet already queued for the socket. The positive control for
        "nothing reached this tab": first see the packet reach a viewer that
        must get it, then ``barrier()`` the tab that must not.
        """
        before = self._pongs
        await self.sio.emit("ping", namespace=NAMESPACE)
        await self.wait_for(lambda: self._pongs > before, timeout)

    async def settle(self, quiet: float = 0.5) -> None:
        """Wait until no update arrived for ``quiet`` seconds."""
        while True:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=quiet)
            except TimeoutError:
                return

    async def close(self) -> None:
        """Disconnect (like closing the tab)."""
        await self.sio.disconnect()

    # -- Blabber conveniences -------------------------------------------------
    async def post_session(self, endpoint: str, **body: str) -> tuple[int, dict[str, Any]]:
        """POST to a session endpoint as the page's script does; keeps the cookie it sets.

        Returns the status and the JSON answer. Sends this tab's Origin,
        cookie and extra headers (a proxy's X-Forwarded-For), like the browser.
        """
        headers = {**self.headers, "Origin": self.origin, **self._cookie_header()}
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{self.base_url}/api/session/{endpoint}", json=body, headers=headers
            ) as response:
                answer = await response.json(content_type=None)
                morsel = response.cookies.get(SESSION_COOKIE)
                if morsel is not None:
                    self.session_token = morsel.value
                return response.status, answer

    async def load_page(self, path: str | None = None) -> None:
        """A full page load of ``path`` (default: this one): a new socket, same tab token.

        What the browser does after the session script logs in or out: the
        new handshake carries the new cookie.
        """
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
        self.sio = self._new_socket()
        await self.connect(path or self.path, self.storage())

    async def sign_up(self, username: str, password: str = "password123") -> None:
        """Sign up through the endpoint, load ``/`` signed in, wait for the identity."""
        status, answer = await self.post_session("signup", username=username, password=password)
        assert status == 200, answer
        await self.load_page("/")
        await self.wait_for(lambda: self.var(AUTH, "username") == username)

    async def log_in(self, username: str, password: str = "password123") -> None:
        """Log in through the endpoint, load ``/`` signed in, wait for the identity."""
        status, answer = await self.post_session("login", username=username, password=password)
        assert status == 200, answer
        await self.load_page("/")
        await self.wait_for(lambda: self.var(AUTH, "username") == username)

    async def log_out(self) -> None:
        """``Log out`` as the page does it: the endpoint revokes the session and clears the cookie.

        The socket stays open (the browser would load /login next); the
        server ends its identity by the revocation event, live.
        """
        status, answer = await self.post_session("logout")
        assert status == 200, answer
        self.session_token = ""

    async def join(self, room: str) -> None:
        """Join a room by name, then open its page (what the redirect does)."""
        await self.call(SIDEBAR, "join_room", form_data={"room_name": room})
        await self.settle(0.3)
        await self.navigate(f"/rooms/{room}")
        await self.wait_for(lambda: (self.var(CHAT, "room_name") or "").lower() == room.lower())

    def messages(self) -> list[dict[str, Any]]:
        """The open room's messages as the page shows them (:mod:`blabber.realtime.shown`)."""
        return shown_from_vars(lambda n: self.var(CHAT, n), lambda n: self.var(FEED, n))

    def bodies(self) -> list[str]:
        """Bodies of the user-written messages in the window."""
        return [m["body"] for m in self.messages() if m.get("kind") == "user"]
