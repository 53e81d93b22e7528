"""A simulated browser tab speaking Reflex's websocket protocol (python-socketio).

It does what ``utils/state.js`` of the built frontend does: connect to
``/_event`` with ``?token=<tab token>`` and the ``hydrate_and_load`` event in
the socket.io CONNECT ``auth`` packet, send back every backend event the
server queues (``on_load_internal`` -> ``open_room``), apply ``delta``s, and
emit handler events (``send``, ``typing``, ``load_older``) with router data.
The session is the ``blabber_session`` cookie, as in the browser: sent in the
handshake's ``Cookie`` header (the only place the server reads it) and set by
``POST /api/session/login``, which :meth:`SimClient.log_in` calls as the
page's ``session.js`` does. Nothing reaches into the server's internals:
latency is what a browser sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import socketio

from bench.stats import ClientView
from blabber.realtime.shown import CHAT_VARS, FEED_VARS, shown_from_vars
from blabber.session_cookie import COOKIE_NAME as SESSION_COOKIE

ROOT_STATE = "reflex___state____state"
NAMESPACE = "/_event"  # state.js: io("ws://host/_event", {path: "/_event"})
LOGIN_PATH = "/api/session/login"  # blabber/routes.py SESSION_LOGIN


@dataclasses.dataclass(frozen=True)
class Protocol:
    """Names the frontend uses, read from the built ``utils/context.jsx``."""

    chat_state: str = f"{ROOT_STATE}.blabber___state___chat____chat_state"
    # The chat screen's feature states, substates of ``chat_state``; a build
    # from before the split by feature has none, and its handlers are all on
    # ``chat_state`` (so the bench compares old and new servers alike).
    sidebar_state: str = f"{chat_state}.blabber___state___sidebar____sidebar_state"
    room_state: str = f"{chat_state}.blabber___state___room____room_state"
    composer_state: str = f"{chat_state}.blabber___state___composer____composer_state"
    message_actions_state: str = (
        f"{chat_state}.blabber___state___message_actions____message_actions_state"
    )
    feed_state: str = f"{ROOT_STATE}.blabber___state___feed____feed_state"
    auth_state: str = f"{ROOT_STATE}.blabber___state___auth____auth_state"
    state_schema: str | None = None

    @classmethod
    def from_web_dir(cls, web_dir: Path | None) -> Protocol:
        """Derive state names and the schema hash from a frontend build (defaults if absent)."""
        ctx = web_dir / "utils" / "context.jsx" if web_dir else None
        if ctx is None or not ctx.exists():
            return cls()
        text = ctx.read_text()
        schema = re.search(r'export const stateSchema = "([0-9a-f]+)"', text)
        state = re.search(r"export const initialState = (\{.*\})", text)
        chat = feed = auth = None
        features: dict[str, str] = {}
        if state:
            names = list(json.loads(state.group(1)))
            chat = next((n for n in names if n.endswith("chat____chat_state")), None)
            for feature in ("sidebar", "room", "composer", "message_actions"):
                suffix = f"{feature}____{feature}_state"
                found = next((n for n in names if n.endswith(suffix)), None)
                features[f"{feature}_state"] = found or chat or getattr(cls, f"{feature}_state")
            feed = next((n for n in names if n.endswith("feed____feed_state")), None)
            auth = next((n for n in names if n.endswith("auth____auth_state")), None)
        base = cls()
        return cls(
            chat_state=chat or base.chat_state,
            sidebar_state=features.get("sidebar_state", base.sidebar_state),
            room_state=features.get("room_state", base.room_state),
            composer_state=features.get("composer_state", base.composer_state),
            message_actions_state=features.get("message_actions_state", base.message_actions_state),
            feed_state=feed or base.feed_state,
            auth_state=auth or base.auth_state,
            state_schema=schema.group(1) if schema else None,
        )


def chat_vars(delta: dict[str, Any], proto: Protocol) -> dict[str, Any]:
    """The vars of the chat screen in a delta: its state and every feature substate, merged.

    Var names are unique along a state's family (Reflex refuses a substate
    var shadowing its parent's), so one flat dict loses nothing.
    """
    merged: dict[str, Any] = {}
    for name, values in delta.items():
        if name == proto.chat_state or name.startswith(proto.chat_state + "."):
            merged.update(values)
    return merged


class _FastJson:
    """orjson behind the ``json`` module interface python-socketio expects.

    Every simulated tab parses every delta in one bench process; with the
    stdlib parser the load generator, not the server, saturated first.
    """

    @staticmethod
    def dumps(obj: Any, **_kw: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(text: str | bytes, **_kw: Any) -> Any:
        return orjson.loads(text)


class LogInRefused(RuntimeError):
    """The log-in endpoint did not start a session (its status and error are in the message)."""


class SimClient:
    """One browser tab: connects, opens a page, receives deltas, sends events."""

    def __init__(
        self,
        index: int,
        base_url: str,
        proto: Protocol,
        view: ClientView | None = None,
        *,
        session_token: str = "",
        origin: str | None = None,
    ) -> None:
        self.index = index
        self.base_url = base_url
        self.proto = proto
        self.view = view
        # The ``blabber_session`` cookie's value: seeded in the database by the
        # bench, or set by :meth:`log_in`; every handshake carries it.
        self.session_token = session_token
        self.origin = origin or base_url.rstrip("/")
        self.tab_token = uuid.uuid4().hex
        self.path = "/"
        self.sio = self._new_socket()
        self._http: aiohttp.ClientSession | None = None  # for the session endpoints, lazily
        self.chat: dict[str, Any] = {}
        self.feed: dict[str, Any] = {}
        self.auth: dict[str, Any] = {}
        self.room_ready = asyncio.Event()
        self._changed = asyncio.Event()
        self.updates = 0
        self.errors: list[str] = []
        self.sent_ids: set[str] = set()  # client ids of the messages this tab sent
        # Encoded sizes of the packets that carried a change of an older feed
        # row (``changes``) and of tail-only packets (a new message, or a
        # change of a tail row), for the bytes-per-viewer figures.
        self.change_packet_bytes: list[int] = []
        self.tail_packet_bytes: list[int] = []

    # -- wire ----------------------------------------------------------------
    def _new_socket(self) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False, ssl_verify=False, json=_FastJson)
        sio.on("event", self._on_event, namespace=NAMESPACE)
        return sio

    def _handshake_headers(self) -> dict[str, str]:
        """What the browser sends with the websocket upgrade: its Origin and the session cookie.

        A fresh dict each time: python-engineio moves ``Cookie`` out of the
        dict it is given (into its own cookie jar).
        """
        headers = {"Origin": self.origin}
        if self.session_token:
            headers["Cookie"] = f"{SESSION_COOKIE}={self.session_token}"
        return headers

    def _router_data(self) -> dict[str, Any]:
        return {"pathname": self.path, "asPath": self.path}

    def _event(self, name: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"name": name, "payload": payload or {}, "router_data": self._router_data()}

    async def connect(self, path: str, timeout: float = 60.0) -> None:
        """Open ``path`` as a fresh tab (hydrate in the CONNECT packet, like state.js).

        No client-storage vars: the session travels only as the handshake's cookie.
        """
        self.path = path
        auth: dict[str, Any] = {
            "event": self._event(f"{ROOT_STATE}.hydrate_and_load", {"vars": {}}),
        }
        if self.proto.state_schema:
            auth["state_schema"] = self.proto.state_schema
        await self.sio.connect(
            f"{self.base_url}?token={self.tab_token}",
            socketio_path="/_event",
            transports=["websocket"],
            namespaces=[NAMESPACE],
            headers=self._handshake_headers(),
            auth=auth,
            wait_timeout=timeout,
        )

    async def emit(self, name: str, payload: dict[str, Any] | None = None) -> None:
        """Send one handler event, as ``applyEvent`` does."""
        await self.sio.emit("event", self._event(name, payload), namespace=NAMESPACE)

    async def _on_event(self, update: dict[str, Any]) -> None:
        recv_ns = time.time_ns()
        self.updates += 1
        delta = update.get("delta") or {}
        chat = chat_vars(delta, self.proto)
        feed = delta.get(self.proto.feed_state)
        if chat:
            self.chat.update(chat)
            if chat.get("loading_room_rx_state_") is False and self.chat.get("room_name_rx_state_"):
                self.room_ready.set()
        if feed:
            self.feed.update(feed)
            if "changes_rx_state_" in feed and "recent_rx_state_" not in feed:
                self.change_packet_bytes.append(len(orjson.dumps(update)))
            elif "tail_rx_state_" in feed and "recent_rx_state_" not in feed:
                self.tail_packet_bytes.append(len(orjson.dumps(update)))
        # The page re-renders its list when any var the rule reads changes.
        shown = any(f"{n}_rx_state_" in (chat or {}) for n in CHAT_VARS) or any(
            f"{n}_rx_state_" in (feed or {}) for n in FEED_VARS
        )
        if shown and self.view is not None:
            self.view.on_messages(self.shown_messages(), recv_ns)
        auth = delta.get(self.proto.auth_state)
        if auth:
            self.auth.update(auth)
        self._changed.set()
        for event in update.get("events") or []:
            name = event.get("name", "")
            if name.startswith(ROOT_STATE):  # a backend event the page queues back
                await self.sio.emit(
                    "event", {**event, "router_data": self._router_data()}, namespace=NAMESPACE
                )

    def shown_messages(self) -> list[dict[str, Any]]:
        """The message rows the page lists now (:mod:`blabber.realtime.shown`)."""
        return shown_from_vars(
            lambda n: self.chat.get(f"{n}_rx_state_"), lambda n: self.feed.get(f"{n}_rx_state_")
        )

    async def wait_for(self, predicate, timeout: float) -> bool:
        """Wait until ``predicate()`` holds after some update; False on timeout."""
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                return predicate()
        return True

    # -- user actions --------------------------------------------------------
    async def open_room(self, name: str, timeout: float = 60.0) -> None:
        """Open ``/rooms/<name>`` and wait until its history is shown."""
        await self.connect(f"/rooms/{name}", timeout)
        await asyncio.wait_for(self.room_ready.wait(), timeout)

    async def send(self, body: str, client_id: str) -> None:
        """Press Enter in the composer."""
        self.sent_ids.add(client_id)
        await self.emit(
            f"{self.proto.composer_state}.send",
            {"form_data": {"body": body, "client_id": client_id}},
        )

    async def typing(self) -> None:
        """The composer changed."""
        await self.emit(f"{self.proto.composer_state}.typing")

    async def react(self, message_id: int, emoji: str) -> None:
        """Pick ``emoji`` in a message's ``React`` picker (or click its chip)."""
        await self.emit(
            f"{self.proto.message_actions_state}.toggle_reaction",
            {"message_id": message_id, "emoji": emoji},
        )

    async def edit(self, message_id: int, body: str) -> None:
        """``Edit`` one of my messages, type ``body``, press Enter."""
        actions = self.proto.message_actions_state
        await self.emit(f"{actions}.start_edit", {"message_id": message_id})
        await self.emit(f"{actions}.save_edit", {"form_data": {"body": body}})

    async def log_in(self, username: str, password: str, timeout: float = 60.0) -> float:
        """Submit the log-in form on this page; seconds until the session token arrived.

        As ``assets/session.js`` does: POST the credentials to the session
        endpoint (only an HTTP answer can set the HttpOnly cookie), then load
        the page afresh so the new socket's handshake carries the cookie. The
        figure ends with the endpoint's answer (the token), as it ended with
        the token's delta before; the page load after it is not counted.
        Raises :class:`LogInRefused` unless the answer is 200 with the cookie.
        """
        http = self._http_session()
        start = time.perf_counter()
        async with http.post(
            f"{self.base_url.rstrip('/')}{LOGIN_PATH}",
            json={"username": username, "password": password},
            headers={"Origin": self.origin, "Content-Type": "application/json"},
            timeout=aiohttp.ClientTimeout(total=timeout),
            ssl=False,  # as the socket (``ssl_verify=False``): a bench server's own certificate
        ) as response:
            text = await response.text()
            morsel = response.cookies.get(SESSION_COOKIE)
            status = response.status
        elapsed = time.perf_counter() - start
        token = morsel.value if morsel is not None else ""
        if status != 200 or not token:
            raise LogInRefused(f"log-in of {username}: HTTP {status}, {_error_of(text)!r}")
        self.session_token = token
        await self.reload(timeout)
        return elapsed

    async def reload(self, timeout: float = 60.0) -> None:
        """Load this page afresh, as the browser does after a log-in: new socket, same tab token.

        The old page's vars go with it; the new handshake carries the current cookie.
        """
        with contextlib.suppress(Exception):  # already gone
            await self.sio.disconnect()
        self.sio = self._new_socket()
        self.chat, self.feed, self.auth = {}, {}, {}
        self.room_ready.clear()
        await self.connect(self.path, timeout)

    def _http_session(self) -> aiohttp.ClientSession:
        """This tab's HTTP client, made on first use (most tabs never log in).

        No cookie jar: the session cookie is :attr:`session_token`, read from
        the answer and sent by hand, so nothing else decides which cookie goes.
        """
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        return self._http

    async def close(self) -> None:
        """Close the tab (its socket and, if it logged in, its HTTP client)."""
        try:
            await self.sio.disconnect()
        except Exception as exc:  # already gone
            self.errors.append(str(exc))
        if self._http is not None:
            await self._http.close()
            self._http = None


def _error_of(text: str) -> str:
    """The ``error`` of a session endpoint's JSON answer, or the start of whatever else came."""
    try:
        answer = json.loads(text)
    except ValueError:
        return text[:200]
    return str(answer.get("error", answer)) if isinstance(answer, dict) else text[:200]


class FloorClient(SimClient):
    """The same tab against the floor server: join by name, send raw bodies."""

    async def open_room(self, name: str, timeout: float = 60.0) -> None:
        """Join ``name`` on the floor server (no auth, no DB)."""
        self.path = f"/rooms/{name}"
        await self.sio.connect(
            f"{self.base_url}?room={name}",
            socketio_path="/_event",
            transports=["websocket"],
            namespaces=[NAMESPACE],
            wait_timeout=timeout,
        )

    async def send(self, body: str, client_id: str) -> None:
        """Ask the floor server to broadcast ``body``."""
        await self.sio.emit("send", {"body": body, "client_id": client_id}, namespace=NAMESPACE)

    async def typing(self) -> None:
        """The floor has no typing notices."""
