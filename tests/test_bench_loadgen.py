"""The load generator's accounting: it must catch a lost and a duplicated delivery.

Records are injected directly (no server): a benchmark that miscounts loss
or duplicates would report a broken realtime path as healthy. The tab's
session handling is checked against a stand-in server (aiohttp + socketio,
no app): a bench that logs in wrongly would measure anonymous tabs.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import socketio
from aiohttp import web

from bench.client import NAMESPACE, LogInRefused, Protocol, SimClient
from bench.mentions import MentionText, pooled
from bench.stats import ClientView, Ledger, bench_key, make_body, percentile

MS = 1_000_000


def msg(mid: int, key: str, sent_ns: int = 0) -> dict:
    return {"id": mid, "body": make_body(key, sent_ns), "author": "a", "kind": "user"}


def test_percentile_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert math.isnan(percentile([], 50))


def test_body_round_trip_and_foreign_bodies_ignored():
    assert bench_key(make_body("abc", 123, pad=5)) == "abc"
    assert bench_key("hello world") is None
    assert bench_key("bench") is None


def test_clean_run_latency_and_throughput():
    ledger = Ledger()
    views = [ClientView(i, ledger) for i in range(3)]
    ledger.record_sent("k1", 0, [1, 2])
    views[1].on_messages([msg(1, "k1")], 10 * MS)
    views[2].on_messages([msg(1, "k1")], 30 * MS)
    s = ledger.summary(duration_s=1.0)
    assert (s.expected, s.delivered, s.lost, s.duplicated, s.unexpected) == (2, 2, 0, 0, 0)
    assert s.p50_ms == 10 and s.max_ms == 30
    assert s.all_delivered_p99_ms == 30  # the message reached everyone after 30 ms
    assert s.deliveries_per_s == 2


def test_window_resent_in_every_delta_is_not_a_duplicate():
    ledger = Ledger()
    view = ClientView(1, ledger)
    ledger.record_sent("k1", 0, [1])
    ledger.record_sent("k2", 0, [1])
    view.on_messages([msg(1, "k1")], 5 * MS)
    view.on_messages([msg(1, "k1"), msg(2, "k2")], 9 * MS)  # whole list again
    s = ledger.summary(1.0)
    assert (s.delivered, s.duplicated, s.lost) == (2, 0, 0)
    assert s.max_ms == 9  # k2's arrival, not k1's re-send


def test_injected_loss_is_detected():
    ledger = Ledger()
    views = [ClientView(i, ledger) for i in range(4)]
    ledger.record_sent("k1", 0, [1, 2, 3])
    views[1].on_messages([msg(1, "k1")], MS)
    views[3].on_messages([msg(1, "k1")], MS)  # client 2 never sees it
    s = ledger.summary(1.0)
    assert (s.expected, s.delivered, s.lost) == (3, 2, 1)
    assert math.isnan(s.all_delivered_p99_ms)  # no message reached everyone


def test_injected_duplicate_twice_in_one_list_is_detected():
    ledger = Ledger()
    view = ClientView(1, ledger)
    ledger.record_sent("k1", 0, [1])
    view.on_messages([msg(1, "k1"), msg(1, "k1")], MS)
    s = ledger.summary(1.0)
    assert (s.delivered, s.duplicated, s.lost) == (1, 1, 0)


def test_injected_duplicate_stored_twice_is_detected():
    ledger = Ledger()
    view = ClientView(1, ledger)
    ledger.record_sent("k1", 0, [1])
    view.on_messages([msg(1, "k1")], MS)
    view.on_messages([msg(1, "k1"), msg(7, "k1")], 2 * MS)  # same send, second row
    s = ledger.summary(1.0)
    assert s.duplicated == 1


def test_arrival_of_a_key_nobody_sent_is_unexpected():
    ledger = Ledger()
    view = ClientView(1, ledger)
    view.on_messages([msg(1, "ghost")], MS)
    assert ledger.summary(1.0).unexpected == 1


def test_senders_own_echo_is_neither_delivery_nor_unexpected():
    ledger = Ledger()
    sender, other = ClientView(0, ledger), ClientView(1, ledger)
    ledger.record_sent("k1", 0, [1])
    sender.on_messages([msg(1, "k1")], MS)
    other.on_messages([msg(1, "k1")], 2 * MS)
    s = ledger.summary(1.0)
    assert (s.expected, s.delivered, s.unexpected) == (1, 1, 0)


def test_mention_text_names_five_distinct_members_never_the_sender():
    from blabber.services import mentions as service

    members = [f"bench_{i:05d}" for i in range(12)]
    text = MentionText(members, per_message=5)
    for i in range(40):
        sender = members[i % 7]
        body = text.body(make_body(f"k{i}", i), sender)
        names, everyone = service.named(body)
        named = [n[0] for n in names]
        assert bench_key(body) == f"k{i}"  # the ledger still reads the key
        assert not everyone and len(named) == len(set(named)) == 5
        assert set(named) <= set(members) and sender not in named
    assert sum(text.counts.values()) == 200
    assert max(text.counts.values()) - min(text.counts.values()) <= 4  # rotates through all


def test_mention_text_needs_more_members_than_mentions():
    with pytest.raises(ValueError):
        MentionText(["a_1", "a_2", "a_3", "a_4", "a_5"], per_message=5)


def test_pooled_rounds_count_like_one_ledger():
    first, second = Ledger(), Ledger()
    first.record_sent("k1", 0, [1, 2])
    ClientView(1, first).on_messages([msg(1, "k1")], 10 * MS)  # client 2 loses k1
    second.record_sent("k2", 0, [1])
    view = ClientView(1, second)
    view.on_messages([msg(2, "k2")], 30 * MS)
    view.on_messages([msg(2, "k2"), msg(3, "k2")], 31 * MS)
    s = pooled([first, second], 2.0)
    assert (s.expected, s.delivered, s.lost, s.duplicated) == (3, 2, 1, 1)
    assert s.max_ms == 30 and s.deliveries_per_s == 1


class FakeServer:
    """Records each websocket handshake and log-in POST; logs ``ann`` in with ``pw``."""

    def __init__(self) -> None:
        self.handshakes: list[dict[str, Any]] = []
        self.posts: list[dict[str, Any]] = []
        self.url = ""

    async def start(self) -> web.AppRunner:
        sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
        app = web.Application()
        sio.attach(app, socketio_path="/_event")

        async def connect(sid: str, environ: dict, auth: Any = None) -> None:
            self.handshakes.append(
                {
                    "cookie": environ.get("HTTP_COOKIE", ""),
                    "origin": environ.get("HTTP_ORIGIN", ""),
                    "vars": auth["event"]["payload"]["vars"],
                }
            )

        async def login(request: web.Request) -> web.Response:
            body = await request.json()
            self.posts.append(
                {"origin": request.headers.get("Origin"), "type": request.content_type, **body}
            )
            if body != {"username": "ann", "password": "pw"}:
                return web.json_response({"error": "Wrong username or password"}, status=400)
            response = web.json_response({"ok": True, "username": "ann"})
            response.headers["Set-Cookie"] = (
                "blabber_session=new-token; Path=/; Max-Age=60; HttpOnly; SameSite=Lax"
            )
            return response

        sio.on("connect", connect, namespace=NAMESPACE)
        app.router.add_post("/api/session/login", login)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        return runner


async def test_session_travels_as_the_handshake_cookie_and_log_in_sets_it():
    server = FakeServer()
    runner = await server.start()
    seeded = SimClient(0, server.url, Protocol(), session_token="seeded")
    tab = SimClient(1, server.url, Protocol())
    try:
        await seeded.connect("/")
        await tab.connect("/login")
        first_tab_token = tab.tab_token
        seconds = await tab.log_in("ann", "pw", timeout=10)
        with pytest.raises(LogInRefused, match=r"HTTP 400.*Wrong username"):
            await tab.log_in("ann", "wrong", timeout=10)
    finally:
        await seeded.close()
        await tab.close()
        await runner.cleanup()
    origin = server.url
    assert server.handshakes == [
        {"cookie": "blabber_session=seeded", "origin": origin, "vars": {}},
        {"cookie": "", "origin": origin, "vars": {}},
        {"cookie": "blabber_session=new-token", "origin": origin, "vars": {}},  # page reloaded
    ]
    assert [p["origin"] for p in server.posts] == [origin, origin]
    assert {p["type"] for p in server.posts} == {"application/json"}
    assert 0 < seconds < 10
    assert tab.session_token == "new-token" and tab.tab_token == first_tab_token
    assert tab.path == "/login"
