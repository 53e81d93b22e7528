"""``python -m bench.soak``: a bounded soak test of delivery guarantees and server memory.

Starts the real app (default: PostgreSQL + a private Redis + 2 Uvicorn
workers, as in production), opens ``--clients`` simulated tabs
(:class:`bench.client.SimClient`, Reflex's real websocket protocol) in rooms
of ~20, and for ``--minutes`` keeps doing, all at once:

* **sends** at ``--rate`` msg/s in total, from random tabs; a tab has at most
  one send in flight (a browser queues its events the same way), half of
  them after a typing notice;
* **typing** notices alone (``--typing-rate`` per second);
* **reconnects** (``--reconnect-rate`` per second): a tab's socket closes,
  stays away 1-``--away-max`` s, then the same tab (same tab token) or a new
  tab with the same session reopens the room; it pages back (``Load older
  messages``) until it shows what it missed;
* **joins**: ``clients/20`` users join one more room mid-run through the real
  ``join_room`` handler (a ``/`` tab, then a new tab on the room).

Then it drains, and checks what every tab's *page* listed
(:meth:`SoakClient.shown_messages`, the page's own rule from
:mod:`blabber.realtime.shown`: nothing while the room loads, paged history,
then the room feed from ``show_from_id``, the feed hidden while ``has_newer``).

Definitions (:class:`SoakLedger`; a *client* is one simulated user-in-a-room,
whose successive tabs share an index):

* **sent**: ``send`` emitted; **acked**: the sender's own page lists it
  (the server stored it and echoed it); ``unacked`` must be 0.
* **expected**: (message, client) for every other client of the room that
  had opened it (first tab shown the room) before the send, *including
  clients away at that moment*: a reconnecting client must show what it
  missed.
* **delivered**: an expected pair whose client's page listed the message at
  some point before the end of the drain, in any of its tabs: live, on the
  page shown when the room reopened, or after paging back. ``live`` counts
  deliveries to the tab that was open when it was sent (latency is measured
  on these only).
* **lost** = expected - delivered, after the drain; must be 0.
* **duplicated**: distinct (message, client) pairs shown twice in one list,
  or under two message ids anywhere (stored twice); must be 0.
* **out of order**: distinct (client, message) pairs where a page's list was
  not strictly increasing by id, or a message was first listed while an
  earlier message *of the same sender in the same room* that falls inside
  that list's id span was not (it would then appear above it later), or a
  sender's later message got a lower id; must be 0. Older messages appearing
  by paging back are not out of order: they are below the list's span.
* **server RSS**: psutil over the server's process tree (Uvicorn supervisor + workers):
  after all tabs connected, every ~tenth of the run, and after the drain.
  ``memory_ok`` = end RSS within ``--max-rss-growth-pct`` of the start.

Prints a table and a final one-line JSON summary, writes
``bench/results/soak-latest.json``; exits 1 on any loss, duplicate,
out-of-order, unacknowledged send, unexpected message or memory overgrowth.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.client import NAMESPACE, ROOT_STATE, Protocol, SimClient, chat_vars
from bench.stats import bench_key, make_body, percentile
from blabber.realtime.shown import feed_shown

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
ROOM_SIZE = 20  # tabs per room
SHARED_PER_ROOM = 2  # of which users also in the next room (users in 2 rooms)
SAMPLES = 10  # problems kept as examples in the report
REACTIONS = ("👍", "🎉", "👀", "❤️")


# -- accounting (pure: tests/test_bench_soak.py drives it) ---------------------
@dataclasses.dataclass
class SoakMsg:
    """One sent message: where, by whom, after which of the sender's, for whom."""

    key: str
    room: str
    sender: int
    sent_ns: int
    prev: str | None  # the sender's previous message in this room
    recipients: dict[int, int]  # client -> its tab generation at send time


class SoakLedger:
    """Sends, room membership and every list each client's page showed."""

    def __init__(self) -> None:
        self.sent: dict[str, SoakMsg] = {}
        self.members: dict[str, set[int]] = defaultdict(set)
        self.gen: dict[int, int] = defaultdict(int)  # tabs opened so far, per client
        self.ids: dict[str, int] = {}  # key -> message id, as first shown anywhere
        # (key, client) -> (arrival ns, list number, lowest id in that list, tab generation)
        self.arrivals: dict[tuple[str, int], tuple[int, int, int, int]] = {}
        self.duplicates: set[tuple[str, int]] = set()
        self.out_of_order: set[tuple[int, str]] = set()
        self.unexpected: set[str] = set()
        self.problems: list[str] = []
        self.deleted: set[str] = set()  # deleted by their sender: nobody need see them
        self._lists: dict[int, int] = defaultdict(int)
        self._last_sent: dict[tuple[int, str], str] = {}

    def _problem(self, text: str) -> None:
        if len(self.problems) < SAMPLES:
            self.problems.append(text)

    # -- events ---------------------------------------------------------------
    def join(self, client: int, room: str) -> None:
        """``client`` shows ``room`` from now on: later messages there are expected."""
        self.members[room].add(client)

    def reopened(self, client: int) -> None:
        """``client`` opened a new tab (after a reconnect)."""
        self.gen[client] += 1

    def record_send(self, key: str, room: str, sender: int, sent_ns: int) -> SoakMsg:
        """``sender`` sends ``key`` to ``room`` now."""
        msg = SoakMsg(
            key,
            room,
            sender,
            sent_ns,
            self._last_sent.get((sender, room)),
            {c: self.gen[c] for c in self.members[room] if c != sender},
        )
        self.sent[key] = msg
        self._last_sent[(sender, room)] = key
        return msg

    def on_list(self, client: int, messages: list[dict[str, Any]], recv_ns: int) -> None:
        """``client``'s page lists ``messages`` (top to bottom) at ``recv_ns``."""
        self._lists[client] += 1
        seq = self._lists[client]
        ids = [int(m["id"]) for m in messages if isinstance(m.get("id"), int)]
        low = min(ids) if ids else 0
        prev_id: int | None = None
        in_list: set[str] = set()
        for m in messages:
            mid = m.get("id")
            key = bench_key(str(m.get("body", "")))
            if isinstance(mid, int) and prev_id is not None and mid <= prev_id:
                if mid == prev_id:  # the same row twice
                    self._dup(key or f"#{mid}", client, f"id {mid} twice in one list")
                else:
                    self._ooo(client, key or f"#{mid}", f"list not increasing: {prev_id}, {mid}")
            if isinstance(mid, int):
                prev_id = mid if prev_id is None else max(prev_id, mid)
            if key is None:
                continue
            if key in in_list:
                self._dup(key, client, "key twice in one list")
                continue
            in_list.add(key)
            if key not in self.sent:
                self.unexpected.add(key)
            if isinstance(mid, int):
                known = self.ids.setdefault(key, mid)
                if known != mid:
                    self._dup(key, client, f"key under ids {known} and {mid}")
            if (key, client) not in self.arrivals:
                self.arrivals[(key, client)] = (recv_ns, seq, low, self.gen[client])

    def _dup(self, key: str, client: int, why: str) -> None:
        if (key, client) not in self.duplicates:
            self.duplicates.add((key, client))
            self._problem(f"duplicate: client {client} {key}: {why}")

    def _ooo(self, client: int, key: str, why: str) -> None:
        if (client, key) not in self.out_of_order:
            self.out_of_order.add((client, key))
            self._problem(f"out of order: client {client} {key}: {why}")

    def record_deleted(self, key: str) -> None:
        """``key``'s sender deleted it: a client that had not listed it yet never will."""
        self.deleted.add(key)

    def _expected(self, key: str, client: int) -> bool:
        msg = self.sent[key]
        return client in msg.recipients and not (
            key in self.deleted and (key, client) not in self.arrivals
        )

    # -- queries ----------------------------------------------------------------
    def acked(self, key: str) -> bool:
        """The sender's page has listed ``key``."""
        msg = self.sent.get(key)
        return msg is not None and (key, msg.sender) in self.arrivals

    def missing(self, client: int) -> list[str]:
        """Keys expected at ``client`` that its page has not listed yet."""
        return [
            k for k in self.sent if self._expected(k, client) and (k, client) not in self.arrivals
        ]

    def lost(self) -> int:
        """Expected (message, client) pairs not listed yet."""
        return sum(
            1
            for k, m in self.sent.items()
            for c in m.recipients
            if self._expected(k, c) and (k, c) not in self.arrivals
        )

    def check_sender_order(self) -> None:
        """Same-sender order: ids follow send order, and no list showed a later one first."""
        for key, msg in self.sent.items():
            prev = self.sent.get(msg.prev) if msg.prev else None
            if prev is None or key not in self.ids or prev.key not in self.ids:
                continue
            earlier, later = self.ids[prev.key], self.ids[key]
            if earlier > later:
                self._ooo(msg.sender, key, f"stored before the sender's earlier {prev.key}")
                continue
            for client in msg.recipients.keys() | {msg.sender}:
                got = self.arrivals.get((key, client))
                if got is None or got[2] >= earlier:
                    continue  # never shown, or the earlier one was below that list
                before = self.arrivals.get((prev.key, client))
                if before is None and prev.key in self.deleted:
                    continue  # deleted before this client listed it: it never will
                if before is None or before[1] > got[1]:
                    self._ooo(client, key, f"shown before the sender's earlier {prev.key}")

    def result(self) -> dict[str, Any]:
        """The figures (call once, after the drain)."""
        self.check_sender_order()
        expected = delivered = live = 0
        latencies: list[float] = []
        for key, msg in self.sent.items():
            for client, gen in msg.recipients.items():
                if not self._expected(key, client):
                    continue
                expected += 1
                got = self.arrivals.get((key, client))
                if got is None:
                    continue
                delivered += 1
                if got[3] == gen:
                    live += 1
                    latencies.append((got[0] - msg.sent_ns) / 1e6)
        for key, msg in self.sent.items():
            for client, gen in msg.recipients.items():
                if self._expected(key, client) and (key, client) not in self.arrivals:
                    self._problem(
                        f"lost: {key} (id {self.ids.get(key)}, room {msg.room}) never shown at"
                        f" client {client} (sent to its tab {gen}, last tab {self.gen[client]})"
                    )
        acked = sum(1 for k in self.sent if self.acked(k))
        return {
            "sent": len(self.sent),
            "acked": acked,
            "unacked": len(self.sent) - acked,
            "expected": expected,
            "delivered": delivered,
            "delivered_live": live,
            "delivered_after_reopen": delivered - live,
            "lost": expected - delivered,
            "duplicated": len(self.duplicates),
            "out_of_order": len(self.out_of_order),
            "unexpected": len(self.unexpected),
            "live_p50_ms": _r(percentile(latencies, 50)),
            "live_p99_ms": _r(percentile(latencies, 99)),
            "live_max_ms": _r(max(latencies) if latencies else math.nan),
            "problems": self.problems,
        }


def _r(v: float) -> float | None:
    return round(v, 1) if math.isfinite(v) else None


# -- a tab that reports what its page lists -------------------------------------
class SoakClient(SimClient):
    """A :class:`SimClient` whose every state change is accounted as the page shows it."""

    def __init__(
        self, index: int, base_url: str, proto: Protocol, ledger: SoakLedger, token: str
    ) -> None:
        super().__init__(index, base_url, proto, None, session_token=token)
        self.ledger = ledger
        self.redirects: list[str] = []
        self.loads = 0  # open_room runs finished (loading_room went True, then False)
        self._loading = False

    async def open_room(self, name: str, timeout: float = 60.0) -> None:
        """Open ``/rooms/<name>`` and wait until *this* page load has shown the room.

        ``room_ready`` alone is not enough when the same tab reconnects: the
        hydrate restores the old state (room name set, not loading) before
        ``open_room`` runs again.
        """
        await self.connect(f"/rooms/{name}", timeout)
        if not await self.wait_for(lambda: self.loads > 0, timeout):
            raise TimeoutError(f"room {name} never finished loading")

    def _feed_shown(self) -> bool:
        return feed_shown(
            room_name=self.chat.get("room_name_rx_state_") or "",
            has_newer=bool(self.chat.get("has_newer_rx_state_")),
            feed_room=self.feed.get("room_rx_state_") or "",
        )

    def describe(self) -> str:
        """The page's state in one line (for reports)."""
        shown = [m["id"] for m in self.shown_messages()]
        keys = ("room_name", "loading_room", "show_from_id", "has_older", "has_newer")
        chat = {k: self.chat.get(f"{k}_rx_state_") for k in keys}
        feed = self.feed
        live = (feed.get("recent_rx_state_") or []) + (feed.get("tail_rx_state_") or [])
        ids = [m["id"] for m in live]
        paged = len(self.chat.get("messages_rx_state_") or [])
        return (
            f"connected={self.sio.connected} chat={chat} paged={paged}"
            f" feed_room={feed.get('room_rx_state_')!r} feed_ids={ids[:1]}..{ids[-1:]}"
            f" shown={shown[:1]}..{shown[-1:]} ({len(shown)})"
        )

    def can_load_older(self) -> bool:
        """The ``Load older messages`` button is there (``HAS_OLDER`` in components/chat.py)."""
        if self.chat.get("loading_room_rx_state_"):
            return False
        if self.chat.get("messages_rx_state_"):
            return bool(self.chat.get("has_older_rx_state_"))
        start = self.chat.get("show_from_id_rx_state_") or 0
        return self._feed_shown() and bool(
            self.feed.get("has_older_rx_state_")
            or start > (self.feed.get("first_id_rx_state_") or 0)
        )

    async def _on_event(self, update: dict[str, Any]) -> None:
        recv_ns = time.time_ns()
        events = update.get("events") or []
        # Apply the delta (no awaits there), account the page, then answer events.
        await super()._on_event({**update, "events": []})
        delta = update.get("delta") or {}
        chat = chat_vars(delta, self.proto)
        loading = chat.get("loading_room_rx_state_")
        if loading is True:
            self._loading = True
        elif loading is False and self._loading:
            self._loading = False
            self.loads += 1
            self._changed.set()
        if chat or self.proto.feed_state in delta:
            self.ledger.on_list(self.index, self.shown_messages(), recv_ns)
        for event in events:
            name = event.get("name", "")
            if name.endswith("_redirect"):
                self.redirects.append(str((event.get("payload") or {}).get("path", "")))
            elif name.startswith(ROOT_STATE):
                await self.sio.emit(
                    "event", {**event, "router_data": self._router_data()}, namespace=NAMESPACE
                )


# -- the run -----------------------------------------------------------------------
@dataclasses.dataclass
class Persona:
    """One user in one room; its tabs come and go."""

    index: int
    user: tuple[int, str, str]  # id, username, session token
    room: str
    tab: SoakClient | None = None
    away: bool = False
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)


@dataclasses.dataclass
class Counters:
    """What the drivers did."""

    typing: int = 0
    reconnects: int = 0
    same_tab: int = 0  # reconnects that kept the tab token
    pages_loaded: int = 0
    joins: int = 0
    send_skipped: int = 0
    reactions: int = 0
    edits: int = 0
    deletions: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)

    def error(self, text: str) -> None:
        """Remember a failed action (first few kept)."""
        if len(self.errors) < 50:
            self.errors.append(text[:300])


class Soak:
    """Drives personas against a running server and keeps the ledger."""

    def __init__(self, url: str, proto: Protocol, rng: random.Random, args: Any) -> None:
        self.url, self.proto, self.rng, self.args = url, proto, rng, args
        self.ledger = SoakLedger()
        self.counters = Counters()
        self.personas: list[Persona] = []
        self.tasks: set[asyncio.Task] = set()

    def spawn(self, coro) -> None:
        """Run ``coro`` in the background, kept until it finishes."""
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def open(self, p: Persona, tab_token: str | None = None) -> None:
        """A new tab with ``p``'s session opens its room (``tab_token``: the same tab again)."""
        tab = SoakClient(p.index, self.url, self.proto, self.ledger, p.user[2])
        tab.tab_token = tab_token or tab.tab_token
        await tab.open_room(p.room, timeout=60)
        p.tab = tab  # only now can drivers pick it

    async def send_one(self, p: Persona) -> None:
        """Optionally type, then send one message and wait for its echo."""
        async with p.lock:
            tab = p.tab
            if tab is None or p.away:
                return
            if self.rng.random() < 0.5:
                await tab.typing()
                self.counters.typing += 1
                await asyncio.sleep(self.rng.uniform(0.05, 0.3))
            key = uuid.uuid4().hex
            now = time.time_ns()
            self.ledger.record_send(key, p.room, p.index, now)
            await tab.send(make_body(key, now), key)
            if not await tab.wait_for(lambda: self.ledger.acked(key), 30):
                self.counters.error(f"send {key} of client {p.index} not echoed in 30 s")

    async def change_one(self, p: Persona) -> None:
        """React to a shown message, or edit or (rarely) delete one of mine."""
        tab = p.tab
        if tab is None or p.away or p.lock.locked():
            return
        shown = [m for m in tab.shown_messages() if m.get("kind") == "user"]
        mine = [m for m in shown if m.get("client_id") in tab.sent_ids and not m.get("deleted")]
        roll = self.rng.random()
        try:
            if roll < 0.1 and mine:
                msg = self.rng.choice(mine)
                self.ledger.record_deleted(str(msg.get("client_id")))
                await tab.emit(
                    f"{self.proto.message_actions_state}.delete_message", {"message_id": msg["id"]}
                )
                self.counters.deletions += 1
            elif roll < 0.3 and mine:
                msg = self.rng.choice(mine)
                body = str(msg["body"]).split(" edited")[0] + f" edited {self.counters.edits}"
                await tab.edit(msg["id"], body)
                self.counters.edits += 1
            elif live := [m for m in shown if not m.get("deleted")]:
                await tab.react(self.rng.choice(live)["id"], self.rng.choice(REACTIONS))
                self.counters.reactions += 1
        except Exception as exc:  # the tab closed meanwhile
            self.counters.error(f"change by client {p.index}: {exc!r}")

    async def typing_one(self, p: Persona) -> None:
        """A typing notice alone (the user types, then stops)."""
        if p.tab is not None and not p.away and not p.lock.locked():
            try:
                await p.tab.typing()
            except Exception as exc:  # the tab closed meanwhile
                self.counters.error(f"typing of client {p.index}: {exc!r}")
            else:
                self.counters.typing += 1

    async def reconnect(self, p: Persona) -> None:
        """Drop the socket, stay away a while, reconnect and catch up.

        Half the time the same tab comes back (its socket dropped: same tab
        token, as Reflex's reconnect does, so the server may still hold its
        state); otherwise a new tab with the same session opens the room.
        """
        async with p.lock:
            if p.tab is None:
                return
            p.away = True
            same_tab = self.rng.random() < 0.5
            try:
                await p.tab.close()
                await asyncio.sleep(self.rng.uniform(1.0, self.args.away_max))
                self.ledger.reopened(p.index)
                await self.open(p, p.tab.tab_token if same_tab else None)
                self.counters.reconnects += 1
                self.counters.same_tab += same_tab
                await self.catch_up(p)
            except Exception as exc:
                self.counters.error(f"reconnect of client {p.index}: {exc!r}")
            finally:
                p.away = False

    async def catch_up(self, p: Persona) -> None:
        """Press ``Load older messages`` until the page reaches every missed message."""
        tab = p.tab
        assert tab is not None
        for _ in range(60):
            ids = [self.ledger.ids[k] for k in self.ledger.missing(p.index) if k in self.ledger.ids]
            shown = [m["id"] for m in tab.shown_messages()]
            lowest = min(shown) if shown else math.inf
            if not ids or lowest <= min(ids) or not tab.can_load_older():
                break  # nothing older is missing (a gap inside the list stays lost)
            await tab.emit(f"{self.proto.room_state}.load_older")
            self.counters.pages_loaded += 1

            def paged(before: float = lowest) -> bool:
                now = [m["id"] for m in tab.shown_messages()]
                return (
                    bool(now) and min(now) < before and not tab.chat.get("loading_older_rx_state_")
                )

            if not await tab.wait_for(paged, 15):
                self.counters.error(f"client {p.index}: load_older showed nothing older")
                break
        if tab.chat.get("has_newer_rx_state_"):
            await tab.emit(f"{self.proto.room_state}.jump_to_latest")

    async def join(self, p: Persona) -> None:
        """Join ``p.room`` by name from ``/`` (``join_room``), then open it in a new tab."""
        home = SoakClient(p.index, self.url, self.proto, self.ledger, p.user[2])
        try:
            await home.connect("/")
            if not await home.wait_for(lambda: "rooms_rx_state_" in home.chat, 30):
                raise TimeoutError("home page never loaded")
            await home.emit(
                f"{self.proto.sidebar_state}.join_room", {"form_data": {"room_name": p.room}}
            )
            if not await home.wait_for(lambda: bool(home.redirects), 30):
                raise TimeoutError("join_room never redirected")
            await home.close()
            async with p.lock:
                await self.open(p)
            self.ledger.join(p.index, p.room)
            self.counters.joins += 1
        except Exception as exc:
            self.counters.error(f"join of client {p.index} to {p.room}: {exc!r}")
            await home.close()


def plan_personas(
    users: list[tuple[int, str, str]], rooms: list[str], joiners: int
) -> tuple[list[Persona], list[Persona]]:
    """Who is where: rooms of ``ROOM_SIZE`` tabs, some users in 2 rooms, and mid-run joiners.

    Users come in blocks of ``ROOM_SIZE - SHARED_PER_ROOM``: room r holds block
    r plus the first ``SHARED_PER_ROOM`` users of block r+1. Joiner j is a
    user of block j%R (not one of the shared ones) joining room (j%R + 1)%R.
    """
    per = ROOM_SIZE - SHARED_PER_ROOM
    n = len(rooms)
    start: list[Persona] = []
    for r, room in enumerate(rooms):
        block = users[r * per : (r + 1) * per]
        shared = users[((r + 1) % n) * per : ((r + 1) % n) * per + SHARED_PER_ROOM]
        for u in block + (shared if n > 1 else []):
            start.append(Persona(len(start), u, room))
    later = []
    for j in range(joiners):
        r = j % n
        u = users[r * per + SHARED_PER_ROOM + j // n]
        later.append(Persona(len(start) + j, u, rooms[(r + 1) % n]))
    return start, later


async def run(target: Any, args: Any) -> dict[str, Any]:
    """The soak against a started :class:`bench.runner.Target`; returns the report."""
    rng = random.Random(args.seed)
    soak = Soak(target.url, target.proto, rng, args)
    n_rooms = max(2, math.ceil(args.clients / ROOM_SIZE))
    per = ROOM_SIZE - SHARED_PER_ROOM
    joiners = max(1, args.clients // 20)
    users = target.seeder.ensure_users(n_rooms * per)
    rooms = [f"soak{r}-{uuid.uuid4().hex[:6]}" for r in range(n_rooms)]
    start, later = plan_personas(users, rooms, joiners)
    start = start[: args.clients]
    for room in rooms:
        target.seeder.room(room, [p.user[0] for p in start if p.room == room])
    soak.personas = list(start)
    t0 = time.perf_counter()
    sem = asyncio.Semaphore(25)

    async def first_open(p: Persona) -> None:
        async with sem:
            await soak.open(p)
        soak.ledger.join(p.index, p.room)

    await asyncio.gather(*(first_open(p) for p in start))
    connect_s = time.perf_counter() - t0
    await asyncio.sleep(3)  # presence and members panels settle
    rss: list[tuple[float, float]] = [(0.0, target.probe.rss() / 2**20)]
    cpu0 = target.probe.cpu_seconds()
    duration = args.minutes * 60
    began = time.perf_counter()

    def elapsed() -> float:
        return time.perf_counter() - began

    async def every(rate: float, action) -> None:
        """Call ``action()`` ``rate`` times a second (Poisson arrivals) until the end."""
        if rate <= 0:
            return
        while True:
            await asyncio.sleep(rng.expovariate(rate))
            if elapsed() >= duration:
                return
            action()

    def live() -> list[Persona]:
        return [p for p in soak.personas if p.tab is not None and not p.away]

    def send() -> None:
        idle = [p for p in live() if not p.lock.locked()]
        if idle:
            soak.spawn(soak.send_one(rng.choice(idle)))
        else:
            soak.counters.send_skipped += 1

    def typing() -> None:
        if pool := live():
            soak.spawn(soak.typing_one(rng.choice(pool)))

    def reconnect() -> None:
        if pool := [p for p in live() if not p.lock.locked()]:
            soak.spawn(soak.reconnect(rng.choice(pool)))

    def change() -> None:
        if pool := live():
            soak.spawn(soak.change_one(rng.choice(pool)))

    async def joins() -> None:
        for j, p in enumerate(later):
            await asyncio.sleep(max(0.0, (j + 1) * duration * 0.8 / len(later) - elapsed()))
            soak.personas.append(p)
            soak.spawn(soak.join(p))

    async def sample_rss() -> None:
        step = max(5.0, duration / SAMPLES)
        while elapsed() + step < duration:
            await asyncio.sleep(step)
            rss.append((round(elapsed()), target.probe.rss() / 2**20))

    scale = args.clients / 200
    drivers = [
        every(args.rate, send),
        every(args.typing_rate * scale, typing),
        every(args.reconnect_rate * scale, reconnect),
        every(args.change_rate * scale, change),
        joins(),
        sample_rss(),
    ]
    await asyncio.gather(*drivers)
    sent_wall = elapsed()
    if soak.tasks:  # in-flight sends, reconnects and joins finish
        _done, stuck = await asyncio.wait(set(soak.tasks), timeout=120)
        for task in stuck:
            soak.counters.error(f"still running after 120 s: {task.get_coro()!r}")
            task.cancel()
    deadline = time.perf_counter() + args.drain
    while soak.ledger.lost() and time.perf_counter() < deadline:
        await asyncio.sleep(0.5)
    for p in soak.personas:  # what a client that lost messages has on its page
        if p.tab is not None and soak.ledger.missing(p.index):
            soak.counters.error(
                f"client {p.index} missing {len(soak.ledger.missing(p.index))}: {p.tab.describe()}"
            )
    tabs = [p.tab for p in soak.personas if p.tab is not None and not p.away]
    stale = stale_versions(target.seeder.engine, tabs)
    deadline = time.perf_counter() + args.drain
    while stale and time.perf_counter() < deadline:  # changes still in flight
        await asyncio.sleep(0.5)
        stale = stale_versions(target.seeder.engine, tabs)
    for client, message_id, shown, stored in stale[:SAMPLES]:
        soak.counters.error(f"stale: client {client} shows {shown} of {message_id}, not {stored}")
    cpu = (target.probe.cpu_seconds() - cpu0) / max(1e-9, elapsed())
    rss.append((round(elapsed()), target.probe.rss() / 2**20))
    for p in soak.personas:
        if p.tab is not None:
            await p.tab.close()
    figures = soak.ledger.result()
    rss0, rss1 = rss[0][1], rss[-1][1]
    growth_pct = (rss1 - rss0) / rss0 * 100 if rss0 else 0.0
    c = soak.counters
    return {
        "config": target.name,
        "minutes": args.minutes,
        "clients": len(start),
        "joined_mid_run": c.joins,
        "rooms": n_rooms,
        "users": len({p.user[0] for p in soak.personas}),
        "connect_s": round(connect_s, 1),
        "send_wall_s": round(sent_wall, 1),
        **{k: v for k, v in figures.items() if k != "problems"},
        "typing_notices": c.typing,
        "reactions": c.reactions,
        "edits": c.edits,
        "deletions": c.deletions,
        "stale_versions": len(stale),
        "reconnects": c.reconnects,
        "reconnects_same_tab": c.same_tab,
        "pages_loaded": c.pages_loaded,
        "send_skipped_all_busy": c.send_skipped,
        "errors": len(c.errors),
        "server_cpu_cores": round(cpu, 2),
        "rss_start_mib": round(rss0, 1),
        "rss_end_mib": round(rss1, 1),
        "rss_max_mib": round(max(v for _, v in rss), 1),
        "rss_growth_mib": round(rss1 - rss0, 1),
        "rss_growth_pct": round(growth_pct, 1),
        "memory_ok": growth_pct <= args.max_rss_growth_pct,
        "rss_samples_mib": [[t, round(v, 1)] for t, v in rss],
        "problems": figures["problems"],
        "error_samples": c.errors[: SAMPLES * 2],
    }


def version(message: dict[str, Any]) -> tuple:
    """What a viewer sees of a message: text, deleted, reaction counts in order."""
    chips = tuple((r["emoji"], r["count"]) for r in message.get("reactions") or [])
    return (message.get("body", ""), bool(message.get("deleted")), chips)


def stale_versions(engine: Any, tabs: list[SoakClient]) -> list[tuple[int, int, tuple, tuple]]:
    """(client, message id, shown, stored) for every shown message not in its newest version."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, body, deleted_at IS NOT NULL FROM messages WHERE kind = 'user'")
        ).all()
        counts = conn.execute(
            sa.text(
                "SELECT message_id, emoji, COUNT(*) FROM reactions"
                " GROUP BY message_id, emoji ORDER BY MIN(id)"
            )
        ).all()
    chips: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for message_id, emoji, count in counts:
        chips[message_id].append((emoji, count))
    stored = {i: (body, bool(gone), tuple(chips.get(i, []))) for i, body, gone in rows}
    return [
        (tab.index, m["id"], version(m), stored[m["id"]])
        for tab in tabs
        for m in tab.shown_messages()
        if m.get("kind") == "user" and m["id"] in stored and version(m) != stored[m["id"]]
    ]


def failures(r: dict[str, Any]) -> list[str]:
    """What makes the soak fail (empty = passed)."""
    keys = ("lost", "duplicated", "out_of_order", "unacked", "unexpected", "stale_versions")
    bad = [k for k in keys if r.get(k)]
    if not r.get("sent"):
        bad.append("nothing sent")
    if not r.get("memory_ok", True):
        bad.append("memory_growth")
    return bad


def table(r: dict[str, Any]) -> str:
    """The human report."""
    rows = [
        (
            "run",
            f"{r['config']}, {r['minutes']:g} min, {r['clients']} tabs in {r['rooms']} rooms "
            f"({r['users']} users), +{r['joined_mid_run']} joined mid-run",
        ),
        ("sent / acked / unacked", f"{r['sent']} / {r['acked']} / {r['unacked']}"),
        ("expected deliveries", r["expected"]),
        (
            "delivered (live / after reopen)",
            f"{r['delivered']} ({r['delivered_live']} / {r['delivered_after_reopen']})",
        ),
        ("LOST", r["lost"]),
        ("DUPLICATED", r["duplicated"]),
        ("OUT OF ORDER", r["out_of_order"]),
        ("unexpected", r["unexpected"]),
        ("STALE VERSIONS", r.get("stale_versions", 0)),
        (
            "reactions / edits / deletions",
            f"{r.get('reactions', 0)} / {r.get('edits', 0)} / {r.get('deletions', 0)}",
        ),
        (
            "live latency p50 / p99 / max ms",
            f"{r['live_p50_ms']} / {r['live_p99_ms']} / {r['live_max_ms']}",
        ),
        (
            "typing / reconnects (same tab) / pages / joins",
            f"{r['typing_notices']} / {r['reconnects']} ({r['reconnects_same_tab']})"
            f" / {r['pages_loaded']} / {r['joined_mid_run']}",
        ),
        ("errors", r["errors"]),
        ("server cpu cores", r["server_cpu_cores"]),
        (
            "server RSS start -> end MiB",
            f"{r['rss_start_mib']} -> {r['rss_end_mib']} ({r['rss_growth_mib']:+} MiB, "
            f"{r['rss_growth_pct']:+}%, max {r['rss_max_mib']})",
        ),
        ("RSS samples [s, MiB]", " ".join(f"{t}:{v}" for t, v in r["rss_samples_mib"])),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    lines += [f"  ! {p}" for p in r["problems"] + r["error_samples"]]
    return "\n".join(lines)


@contextlib.contextmanager
def started(config: str) -> Iterator[Any]:
    """Start ``config`` (own database; a private Redis, whose pub/sub no other run shares)."""
    from bench import runner
    from bench.__main__ import PG_ADMIN, bench_env, web_dir
    from bench.setup import Seeder
    from tests.support import appserver
    from tests.support.pg import create_database, drop_database
    from tests.support.services import private_redis

    web = web_dir()
    with contextlib.ExitStack() as stack:
        if config == "pg-redis":
            dbname = "blabber_soak"
            url = create_database(PG_ADMIN, dbname)
            stack.callback(drop_database, PG_ADMIN, dbname)
            redis_url: str | None = stack.enter_context(private_redis()).url
            workers = 2
        else:
            path = appserver.ARTIFACTS / "soak.sqlite"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            url, redis_url, workers = f"sqlite:///{path}", None, 1
        appserver.migrate(url)
        seeder = Seeder(url)
        stack.callback(seeder.dispose)
        server = appserver.start_server(
            web,
            port=appserver.free_port(),
            database_url=url,
            redis_url=redis_url,
            workers=workers,
            extra_env=bench_env(),
            name=f"soak-{config}",
        )
        stack.callback(server.stop)
        yield runner.Target(config, server.url, server.proc.pid, Protocol.from_web_dir(web), seeder)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=200, help="tabs open from the start")
    parser.add_argument("--config", choices=["pg-redis", "sqlite"], default="pg-redis")
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second in total")
    parser.add_argument("--typing-rate", type=float, default=5.0, help="per s, per 200 clients")
    parser.add_argument("--reconnect-rate", type=float, default=1.0, help="per s, per 200 clients")
    parser.add_argument(
        "--change-rate", type=float, default=3.0, help="reactions/edits/deletions per s, per 200"
    )
    parser.add_argument("--away-max", type=float, default=15.0, help="longest absence, seconds")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait for stragglers")
    parser.add_argument("--max-rss-growth-pct", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with started(args.config) as target:
        report = asyncio.run(run(target, args))
    report["failures"] = failures(report)
    print(table(report))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "soak-latest.json").write_text(json.dumps(report, indent=2))
    keys = (
        "config", "minutes", "clients", "sent", "acked", "expected", "delivered", "lost",
        "duplicated", "out_of_order", "reconnects", "rss_start_mib", "rss_end_mib",
        "rss_growth_pct", "failures",
    )  # fmt: skip
    print(json.dumps({k: report[k] for k in keys}))
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
