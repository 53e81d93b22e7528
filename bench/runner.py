"""Scenarios: start a server configuration, connect simulated tabs, measure.

Each scenario returns a plain dict (what ``latest.json`` holds). Latency
figures come from :class:`bench.stats.Ledger`; server CPU and memory from
psutil over the server's whole process tree (Uvicorn supervisor + workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from bench.client import FloorClient, Protocol, SimClient
from bench.setup import PASSWORD, Seeder
from bench.stats import ClientView, Ledger, make_body, percentile
from tests.support.appserver import wait_healthy

CONNECT_CONCURRENCY = 25


class ServerProbe:
    """CPU and RSS of a process tree."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)

    def procs(self) -> list[psutil.Process]:
        """The root and all its descendants still alive."""
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> int:
        """Resident bytes of the whole tree."""
        total = 0
        for p in self.procs():
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the tree so far."""
        total = 0.0
        for p in self.procs():
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
        return total


class Target:
    """Where clients connect: a Blabber configuration or the floor server."""

    def __init__(
        self,
        name: str,
        url: str,
        pid: int,
        proto: Protocol,
        seeder: Seeder | None,
        floor: bool = False,
    ) -> None:
        self.name = name
        self.url = url
        self.probe = ServerProbe(pid)
        self.proto = proto
        self.seeder = seeder
        self.floor = floor
        self.rooms = 0

    def new_room(self, members: int, first_user: int = 0) -> tuple[str, list[tuple[int, str, str]]]:
        """A fresh room with bench users ``first_user`` .. ``+members``; its name and users.

        Rooms of one scenario take distinct users (``first_user``), so "1,000
        clients in 10 rooms of 100" are 1,000 people, each with one tab.
        """
        self.rooms += 1
        name = f"bench{self.rooms}-{uuid.uuid4().hex[:6]}"
        if self.seeder is None:
            return name, [(i, f"u{i}", "") for i in range(first_user, first_user + members)]
        users = self.seeder.ensure_users(first_user + members)[first_user:]
        self.seeder.room(name, [u[0] for u in users])
        return name, users

    def client(self, index: int, view: ClientView | None, token: str) -> SimClient:
        """A tab of the right kind."""
        cls = FloorClient if self.floor else SimClient
        return cls(index, self.url, self.proto, view, session_token=token)


async def open_clients(
    target: Target, room: str, users: list[tuple[int, str, str]], ledger: Ledger, offset: int = 0
) -> tuple[list[SimClient], float]:
    """Open ``room`` in one tab per user; returns tabs and seconds to connect them all."""
    sem = asyncio.Semaphore(CONNECT_CONCURRENCY)
    clients = [
        target.client(offset + i, ClientView(offset + i, ledger), tok)
        for i, (_uid, _name, tok) in enumerate(users)
    ]

    async def one(c: SimClient) -> None:
        async with sem:
            await c.open_room(room, timeout=120)

    start = time.perf_counter()
    await asyncio.gather(*(one(c) for c in clients))
    return clients, time.perf_counter() - start


async def close_all(clients: list[SimClient]) -> None:
    """Close every tab."""
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def drive(
    rooms: list[list[SimClient]],
    ledger: Ledger,
    total_rate: float,
    duration: float,
    *,
    typing_every: int = 5,
    drain: float = 10.0,
    text: Callable[[SimClient, str], str] | None = None,
) -> float:
    """Send ``total_rate`` msg/s spread over ``rooms`` for ``duration`` s, then drain.

    Senders rotate through each room's members; every other member of the
    room is an expected recipient. Every ``typing_every``-th send is preceded
    by a typing notice (0 = none). ``text(sender, body)`` may add to each
    body after its key and send time (the mentions scenario). Returns the
    sending wall time.
    """
    count = max(1, int(total_rate * duration))
    start = time.perf_counter()
    tasks: list[asyncio.Task] = []
    for i in range(count):
        due = start + i / total_rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        room = rooms[i % len(rooms)]
        sender = room[(i // len(rooms)) % len(room)]
        key = uuid.uuid4().hex
        now = time.time_ns()
        ledger.record_sent(key, now, [c.index for c in room if c is not sender])
        if typing_every and i % typing_every == 0:
            tasks.append(asyncio.create_task(sender.typing()))
        body = make_body(key, now)
        if text is not None:
            body = text(sender, body)
        tasks.append(asyncio.create_task(sender.send(body, key)))
    sent_wall = time.perf_counter() - start
    await asyncio.gather(*tasks, return_exceptions=True)
    deadline = time.perf_counter() + drain
    while time.perf_counter() < deadline:
        s = ledger.summary(sent_wall)
        if s.lost == 0:
            break
        await asyncio.sleep(0.1)
    return sent_wall


async def warm_up(rooms: list[list[SimClient]]) -> None:
    """A few throwaway messages first: measure a warm server, as in production.

    Each worker does one-time work (lazy imports, connection pools) on its
    first messages; that start-up cost is reported by the quick cold run in
    RESULTS.md, not mixed into steady-state percentiles.
    """
    scratch = Ledger()
    saved = [(c, c.view.ledger) for room in rooms for c in room if c.view is not None]
    for c, _ in saved:
        c.view.ledger = scratch  # type: ignore[union-attr]
    await drive(rooms, scratch, max(2.0, 2.0 * len(rooms)), 1.5, typing_every=2, drain=15)
    for c, ledger in saved:
        c.view.ledger = ledger  # type: ignore[union-attr]


async def measured(target: Target, coro) -> tuple[Any, dict[str, float]]:
    """Run ``coro`` and report the server's CPU use over it.

    The load generator's own garbage collector is paused while it measures:
    after a few scenarios its heap holds hundreds of thousands of objects
    (every tab's state, every delivery in the ledger), and a full collection
    stopped every simulated tab for ~1 s, which showed up as a 1 s "server"
    stall (also against the floor). Collected before and after instead.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    cpu0, t0 = target.probe.cpu_seconds(), time.perf_counter()
    try:
        result = await coro
    finally:
        gc.enable()
        gc.unfreeze()
    cpu1, t1 = target.probe.cpu_seconds(), time.perf_counter()
    return result, {
        "server_cpu_cores": round((cpu1 - cpu0) / (t1 - t0), 2),
        "server_rss_mib": round(target.probe.rss() / 2**20, 1),
    }


async def fixed_rate(
    target: Target,
    *,
    rooms: int,
    members: int,
    rate: float,
    duration: float,
    typing_every: int = 5,
) -> dict[str, Any]:
    """``rooms`` rooms of ``members`` tabs, ``rate`` msg/s in total, for ``duration`` s."""
    ledger = Ledger()
    all_rooms: list[list[SimClient]] = []
    connect_s = 0.0
    rss0 = target.probe.rss()
    try:
        for r in range(rooms):
            name, users = target.new_room(members, first_user=r * members)
            clients, secs = await open_clients(target, name, users, ledger, offset=r * members)
            all_rooms.append(clients)
            connect_s += secs
        rss1 = target.probe.rss()
        await warm_up(all_rooms)
        wall, usage = await measured(
            target, drive(all_rooms, ledger, rate, duration, typing_every=typing_every)
        )
        s = ledger.summary(wall)
        n = rooms * members
        return {
            "scenario": f"{rooms}x{members} members {rate:g} msg/s",
            "rooms": rooms,
            "members": members,
            "rate": rate,
            **s.as_dict(),
            **usage,
            "connect_s": round(connect_s, 2),
            "rss_per_client_kib": round((rss1 - rss0) / n / 1024, 1),
            "window_len": round(
                statistics.mean(len(c.shown_messages()) for r in all_rooms for c in r)
            ),
        }
    finally:
        for room in all_rooms:
            await close_all(room)


REACTIONS = ("👍", "🎉", "👀", "❤️", "😂")


async def change_driver(
    room: list[SimClient], reactions_per_s: float, edits_per_s: float, duration: float
) -> tuple[int, int]:
    """Reactions and edits at the given rates while messages flow; returns (reactions, edits).

    A reaction goes to a random message the reacting tab shows (feed rows old
    and new); an edit rewrites one of the editing tab's own messages, keeping
    its bench key, so the ledger counts no new arrival.
    """
    rng = random.Random(7)
    reacted = edited = 0
    start = time.perf_counter()
    events = sorted(
        [(i / reactions_per_s, "react") for i in range(int(reactions_per_s * duration))]
        + [(i / edits_per_s + 0.5, "edit") for i in range(int(edits_per_s * duration))]
    )
    tasks = []
    for at, kind in events:
        delay = start + at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        senders = [c for c in room if c.sent_ids] if kind == "edit" else room
        tab = rng.choice(senders or room)
        shown = [m for m in tab.shown_messages() if m.get("kind") == "user"]
        if kind == "react" and shown:
            msg = rng.choice(shown)
            tasks.append(asyncio.create_task(tab.react(msg["id"], rng.choice(REACTIONS))))
            reacted += 1
        elif kind == "edit":
            mine = [m for m in shown if m.get("client_id") in tab.sent_ids]
            if mine:
                msg = rng.choice(mine)
                body = str(msg["body"]).split(" edited")[0] + f" edited {edited}"
                tasks.append(asyncio.create_task(tab.edit(msg["id"], body)))
                edited += 1
    await asyncio.gather(*tasks, return_exceptions=True)
    return reacted, edited


def versions(tab: SimClient) -> dict[int, tuple]:
    """What a tab shows of each message: its text and reaction counts."""
    return {
        m["id"]: (m["body"], tuple((r["emoji"], r["count"]) for r in m.get("reactions") or []))
        for m in tab.shown_messages()
    }


async def with_changes(
    target: Target,
    *,
    members: int,
    rate: float,
    reactions: float,
    edits: float,
    duration: float,
) -> dict[str, Any]:
    """``fixed_rate``'s one room, plus reactions and edits; checks every viewer agrees."""
    ledger = Ledger()
    name, users = target.new_room(members)
    clients, connect_s = await open_clients(target, name, users, ledger)
    try:
        await warm_up([clients])
        both = asyncio.gather(
            drive([clients], ledger, rate, duration),
            change_driver(clients, reactions, edits, duration),
        )
        (wall, (reacted, edited)), usage = await measured(target, both)
        s = ledger.summary(wall)

        def agree() -> bool:
            shown = [versions(c) for c in clients]
            common = set.intersection(*(set(v) for v in shown))
            return bool(common) and all(
                {i: v[i] for i in common} == {i: shown[0][i] for i in common} for v in shown
            )

        deadline = time.perf_counter() + 10
        while not agree() and time.perf_counter() < deadline:
            await asyncio.sleep(0.2)
        change_bytes = [float(b) for c in clients for b in c.change_packet_bytes]
        tail_bytes = [float(b) for c in clients for b in c.tail_packet_bytes]
        return {
            "scenario": f"1x{members} members {rate:g} msg/s + {reactions:g} reactions/s "
            f"+ {edits:g} edits/s",
            "rooms": 1,
            "members": members,
            "rate": rate,
            **s.as_dict(),
            **usage,
            "connect_s": round(connect_s, 2),
            "reactions_sent": reacted,
            "edits_sent": edited,
            "versions_agree": agree(),
            "change_packet_bytes_p50": percentile(change_bytes, 50),
            "tail_packet_bytes_p50": percentile(tail_bytes, 50),
        }
    finally:
        await close_all(clients)


async def ramp(
    target: Target,
    *,
    members: int,
    rates: list[float],
    step_s: float,
    p99_limit: float = 250.0,
    overload: bool = True,
) -> dict[str, Any]:
    """Raise the rate until p99 > limit or a loss; then overload and check recovery."""
    name, users = target.new_room(members)
    ledger = Ledger()
    clients, _ = await open_clients(target, name, users, ledger)
    await warm_up([clients])
    steps: list[dict[str, Any]] = []
    last_good: dict[str, Any] | None = None
    try:
        bad_rate = None
        for rate in rates:
            step = Ledger()
            for c in clients:
                assert c.view is not None
                c.view.ledger = step
            wall, usage = await measured(target, drive([clients], step, rate, step_s, drain=5))
            s = step.summary(wall).as_dict()
            steps.append({"rate": rate, **s, **usage})
            ok = s["lost"] == 0 and s["duplicated"] == 0 and s["p99_ms"] <= p99_limit
            if not ok:
                bad_rate = rate
                break
            last_good = steps[-1]
        over_result: dict[str, Any] = {}
        if bad_rate is not None and overload:
            over = Ledger()
            for c in clients:
                c.view.ledger = over  # type: ignore[union-attr]
            wall = await drive([clients], over, bad_rate * 2, step_s, drain=60)
            over_result = {"rate": bad_rate * 2, **over.summary(wall).as_dict()}
            rec = Ledger()
            for c in clients:
                c.view.ledger = rec  # type: ignore[union-attr]
            wall = await drive([clients], rec, 2, 3, drain=10)
            over_result["recovery"] = {"rate": 2, **rec.summary(wall).as_dict()}
        return {
            "scenario": f"ramp {members} members",
            "members": members,
            "last_good_rate": last_good["rate"] if last_good else 0,
            "last_good_deliveries_per_s": last_good["deliveries_per_s"] if last_good else 0,
            "last_good_p99_ms": last_good["p99_ms"] if last_good else math.nan,
            "steps": steps,
            "overload": over_result,
        }
    finally:
        await close_all(clients)


async def idle_capacity(target: Target, *, clients_n: int, rooms: int) -> dict[str, Any]:
    """Connect ``clients_n`` tabs, each having opened a room; memory per client."""
    ledger = Ledger()
    per = clients_n // rooms
    opened: list[SimClient] = []
    rss0 = target.probe.rss()
    start = time.perf_counter()
    try:
        for r in range(rooms):
            name, users = target.new_room(per, first_user=r * per)
            clients, _ = await open_clients(target, name, users, ledger, offset=r * per)
            opened += clients
        secs = time.perf_counter() - start
        await asyncio.sleep(3)  # let presence sync settle
        rss1 = target.probe.rss()
        return {
            "scenario": f"idle {clients_n} clients in {rooms} rooms",
            "clients": clients_n,
            "connect_s": round(secs, 2),
            "connect_ms_per_client": round(secs / clients_n * 1000, 2),
            "rss_before_mib": round(rss0 / 2**20, 1),
            "rss_after_mib": round(rss1 / 2**20, 1),
            "rss_per_client_kib": round((rss1 - rss0) / clients_n / 1024, 1),
        }
    finally:
        await close_all(opened)


async def history(target: Target, *, messages: int, url: str) -> dict[str, Any]:
    """Open a room holding ``messages`` messages: last 10, then page older."""
    from blabber import db
    from blabber.services import messages as msg_service

    assert target.seeder is not None
    name, users = target.new_room(1)
    room_id = _room_id(target.seeder, name)
    insert_s = await asyncio.to_thread(target.seeder.history, room_id, users[0][0], messages)
    engine = db.make_engine(url)

    def server_time(fn, *args) -> float:
        from sqlmodel import Session

        times = []
        for _ in range(20):
            with Session(engine) as session:
                t0 = time.perf_counter()
                fn(session, *args)
                times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)

    top = _max_message_id(target.seeder, room_id)
    latest_ms = server_time(msg_service.room_window, room_id, 10)  # the newest 10
    # What opening the room costs now: the worker's feed loads the newest window.
    window_ms = server_time(msg_service.room_window, room_id, 50)
    older_ms = server_time(msg_service.messages_before, users[0][0], room_id, top - 500_000, 10)
    engine.dispose()
    client = target.client(0, None, users[0][2])
    t0 = time.perf_counter()
    await client.open_room(name)
    open_ms = (time.perf_counter() - t0) * 1000
    shown = len(client.shown_messages())
    page_ms = []
    for _ in range(5):
        before = len(client.shown_messages())
        t0 = time.perf_counter()
        await client.emit(f"{target.proto.room_state}.load_older")
        await client.wait_for(lambda b=before: len(client.shown_messages()) > b, 30)
        page_ms.append((time.perf_counter() - t0) * 1000)
    await client.close()
    return {
        "scenario": f"history {messages:,} messages",
        "insert_s": round(insert_s, 1),
        "server_latest10_ms": round(latest_ms, 2),
        "server_page_older_ms": round(older_ms, 2),
        "server_room_window50_ms": round(window_ms, 2),
        "client_open_room_ms": round(open_ms, 1),
        "shown": shown,
        "client_load_older_ms_median": round(statistics.median(page_ms), 1),
    }


def _room_id(seeder: Seeder, name: str) -> int:
    import sqlalchemy as sa

    with seeder.engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT id FROM rooms WHERE name = :n"), {"n": name}
        ).scalar_one()


def _max_message_id(seeder: Seeder, room_id: int) -> int:
    import sqlalchemy as sa

    with seeder.engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT max(id) FROM messages WHERE room_id = :r"), {"r": room_id}
        ).scalar_one()


async def login_stall(
    target: Target, *, members: int, rate: float, duration: float, logins: int
) -> dict[str, Any]:
    """Delivery p99 while ``logins`` real log-ins (bcrypt) are always in progress.

    Each log-in tab posts to the session endpoint and then reloads ``/login``
    with the new cookie, as the browser does; both load the server.
    """
    name, users = target.new_room(members)
    ledger = Ledger()
    clients, _ = await open_clients(target, name, users, ledger)
    await warm_up([clients])
    login_users = target.seeder.ensure_users(members + logins)[members:]  # type: ignore[union-attr]
    login_tabs = [target.client(10_000 + i, None, "") for i in range(logins)]
    await asyncio.gather(*(t.connect("/login") for t in login_tabs))
    login_times: list[float] = []
    login_errors: list[str] = []
    stop = asyncio.Event()

    async def keep_logging_in(tab: SimClient, username: str) -> None:
        # A refused or failed log-in ends this tab's loop, but is reported: fewer
        # log-ins in flight must not pass for a server that copes with them.
        try:
            while not stop.is_set():
                login_times.append(await tab.log_in(username, PASSWORD))
        except Exception as exc:
            login_errors.append(f"{username}: {exc!r}")

    try:
        base = Ledger()
        for c in clients:
            c.view.ledger = base  # type: ignore[union-attr]
        # Both phases measured alike (load generator's collector paused).
        wall, _ = await measured(target, drive([clients], base, rate, duration))
        idle = base.summary(wall).as_dict()
        for c in clients:
            c.view.ledger = ledger  # type: ignore[union-attr]
        loops = [
            asyncio.create_task(keep_logging_in(t, u[1]))
            for t, u in zip(login_tabs, login_users, strict=True)
        ]
        await asyncio.sleep(1.0)
        wall, usage = await measured(target, drive([clients], ledger, rate, duration))
        stop.set()
        await asyncio.gather(*loops, return_exceptions=True)
        busy = ledger.summary(wall).as_dict()
        return {
            "scenario": f"{logins} concurrent logins, {members} members {rate:g} msg/s",
            "idle_p99_ms": idle["p99_ms"],
            "logins_p99_ms": busy["p99_ms"],
            "logins_p50_ms": busy["p50_ms"],
            "ratio": round(busy["p99_ms"] / idle["p99_ms"], 2) if idle["p99_ms"] else math.nan,
            "lost": busy["lost"] + idle["lost"],
            "logins_completed": len(login_times),
            "login_median_s": round(statistics.median(login_times), 2) if login_times else None,
            "login_errors": len(login_errors),
            "login_first_error": login_errors[0] if login_errors else None,
            **usage,
        }
    finally:
        stop.set()
        await close_all(clients)
        await close_all(login_tabs)


def start_floor(port: int) -> subprocess.Popen:
    """Start the floor server in its own process (as the app runs in its own)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.floor", str(port)],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    if wait_healthy(proc, f"http://127.0.0.1:{port}/healthz", timeout=30):
        return proc
    proc.kill()
    raise RuntimeError("floor server did not start")
