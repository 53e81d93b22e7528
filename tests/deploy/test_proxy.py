"""The production topology without Docker: nginx (deploy/nginx.conf) in front of app processes.

First, HTTP-level properties of the proxy in front of one placeholder
backend (no browser): the security headers on every response, nginx's own
included, exactly once; ``/healthz`` is not public; the websocket URL's query
string (which carries the tab token) never reaches the access log.

Then the full system:

Runs the real nginx with the project's config (only its listen port and the
upstream include differ from docker-compose, see ``conftest.nginx_prefix``)
in front of two Uvicorn processes with two workers each, sharing PostgreSQL
and Redis, and a frontend built for the proxy's port, as the Docker image
builds it for the published port. In Chromium it proves:

* two users whose websockets go through nginx to *different* processes
  (shown by the presence table: each open tab's row names the worker process
  that holds its socket) exchange messages live;
* nginx upgraded those sockets (``/_event`` answered ``101`` in its log);
* a reload through the proxy keeps the session and the room;
* after one process is SIGKILLed, the tab it held reconnects through nginx to
  the survivor by itself (no reload), still shows every message sent before
  the crash, and live delivery works both ways again.

Note: Reflex's Redis token manager still maps the crashed tab's token to the
dead socket (the record only expires after ``redis_token_expiration``), so
the survivor treats the reconnect as a duplicate tab and hands the page a
*new* token. The page then rebuilds its state through ``on_load`` (session
from browser storage, room and history from the database), which is why
nothing here may depend on the token staying the same.
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import ssl
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import psutil
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from blabber import db
from tests.deploy import chat_ui
from tests.deploy.conftest import (
    PLACEHOLDER_ASSET,
    Nginx,
    placeholder_backend,
    self_signed_tls,
    start_nginx,
)
from tests.security.test_headers import assert_security_headers, get
from tests.support import appserver

pytestmark = [pytest.mark.slow]
FAST_HASHING = {"BLABBER_BCRYPT_ROUNDS": "4"}


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Nginx, appserver.AppServer]]:
    """nginx with the project's config in front of one placeholder backend."""
    root = tmp_path_factory.mktemp("proxy")
    port = appserver.free_port()
    server = placeholder_backend(root, "proxy-placeholder", public_port=port)
    try:
        nginx = start_nginx(root / "nginx", port, [server.url[7:]])
    except BaseException:
        server.stop()
        raise
    yield nginx, server
    nginx.stop()
    server.stop()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        (PLACEHOLDER_ASSET, 200),
        ("/ping", 200),
        ("/no-such-file.js", 404),  # the app's 404
        ("/healthz", 404),  # nginx's own answer
    ],
)
def test_security_headers_through_nginx(proxy, path: str, status: int) -> None:
    nginx, _ = proxy
    resp, _ = get(nginx.port, path)
    assert resp.status == status
    assert_security_headers(resp)  # exactly once each: the app's and nginx's never both


def test_the_https_block_adds_hsts_and_keeps_every_header(tmp_path: Path) -> None:
    """deploy/nginx.conf's commented HTTPS block, switched on as an operator would:
    Strict-Transport-Security on every answer, and the app's headers once each."""
    port, tls_port = appserver.free_port(), appserver.free_port()
    server = placeholder_backend(tmp_path, "tls-placeholder", public_port=port)
    tls = self_signed_tls(tmp_path, tls_port)
    nginx = start_nginx(tmp_path / "nginx", port, [server.url[7:]], tls)
    try:
        insecure = ssl.create_default_context()
        insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE  # self-signed
        for path, status in (("/", 200), (PLACEHOLDER_ASSET, 200), ("/healthz", 404)):
            conn = http.client.HTTPSConnection("127.0.0.1", tls_port, timeout=10, context=insecure)
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            assert resp.status == status
            assert resp.headers.get_all("Strict-Transport-Security") == ["max-age=63072000"]
            assert_security_headers(resp)
        plain, _ = get(nginx.port, "/")
        assert plain.headers.get("Strict-Transport-Security") is None  # never over plain HTTP
    finally:
        nginx.stop()
        server.stop()


@pytest.mark.parametrize("path", ["/healthz", "/healthz?probe=1", "/_health", "//healthz"])
def test_health_endpoints_are_not_public_through_nginx(proxy, path: str) -> None:
    """Which dependency is down is for the operator; the app port still answers."""
    nginx, server = proxy
    resp, body = get(nginx.port, path)
    assert resp.status == 404
    assert b"database" not in body
    with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as direct:
        assert direct.status == 200


async def test_websocket_token_is_not_in_the_access_log(proxy) -> None:
    """The tab token rides in /_event's query string; nginx must not log it."""
    nginx, _ = proxy
    secret = f"SECRET{secrets.token_hex(8)}"
    base = f"http://127.0.0.1:{nginx.port}"
    url = f"{base}/_event/?EIO=4&transport=websocket&token={secret}"
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(url, headers={"Origin": base})
        first = await ws.receive(timeout=5)
        assert str(first.data).startswith('0{"sid"'), first  # the socket really opened
        await ws.close()
    deadline = time.monotonic() + 10  # the entry is written when the socket closes
    while "/_event/" not in nginx.access_log and time.monotonic() < deadline:
        time.sleep(0.1)
    log = nginx.access_log
    assert secret not in log
    assert '"GET /_event/ HTTP/1.1" 101 ' in log, log[-2000:]  # logged, just without the query


def _token(page: Page) -> str:
    return page.evaluate("window.sessionStorage.getItem('token')")


def _pids(server: appserver.AppServer) -> set[int]:
    proc = psutil.Process(server.proc.pid)
    return {proc.pid, *(child.pid for child in proc.children(recursive=True))}


def holder(
    database_url: str,
    servers: list[appserver.AppServer],
    page: Page,
    *,
    not_before: float,
    timeout: float = 20.0,
) -> int:
    """Index of the server whose worker heartbeats this tab's socket (after ``not_before``).

    Right after a (re)connect the answer can be transitional: the old worker
    may heartbeat the tab once more before it notices the socket closed, and
    Reflex may hand the page a new token a moment later. So the same token
    and worker must be seen on two successive heartbeats.
    """
    engine = db.make_engine(database_url)
    deadline = time.monotonic() + timeout
    query = sa.text(
        "SELECT worker_id, extract(epoch FROM heartbeat_at) FROM presence_connections "
        "WHERE client_token = :t"
    )
    seen: tuple[str, int, float] | None = None
    try:
        while time.monotonic() < deadline:
            token = _token(page)  # re-read: Reflex may re-token a reconnecting tab
            with engine.connect() as conn:
                row = conn.execute(query, {"t": token}).first()
            if row is not None and float(row[1]) > not_before:
                pid = int(row[0].rsplit("-", 2)[1])  # "<hostname>-<pid>-<nonce>"
                live = [
                    i for i, s in enumerate(servers) if s.proc.poll() is None and pid in _pids(s)
                ]
                if live:
                    current = (token, live[0], float(row[1]))
                    if seen and seen[:2] == current[:2] and current[2] > seen[2]:
                        return live[0]
                    if not seen or seen[:2] != current[:2]:
                        seen = current
            time.sleep(0.3)
    finally:
        engine.dispose()
    raise AssertionError(f"no live worker steadily heartbeats tab {_token(page)}")


def move_apart(
    database_url: str, servers: list[appserver.AppServer], alice: Page, bob: Page, base: str
) -> tuple[int, int]:
    """Make Alice's and Bob's sockets live on different processes; returns their indexes.

    The upstream balances by least connections (as deploy/upstream.conf does),
    so a reconnecting socket normally lands on the process that does not hold
    the other user's socket; reloading Bob (with a request or two through
    nginx in between, in case ties are broken round-robin) covers the rest.
    Nothing pins a browser to a process (no sticky sessions).
    """
    since = time.time()
    on_alice = holder(database_url, servers, alice, not_before=since)
    on_bob = holder(database_url, servers, bob, not_before=since)
    for attempt in range(6):
        if on_bob != on_alice:
            return on_alice, on_bob
        for _ in range(1 + attempt % 2):
            urllib.request.urlopen(f"{base}/ping", timeout=5).close()
        bob.reload()
        expect(bob.get_by_test_id("room-heading")).to_contain_text("lobby")
        since = time.time()
        on_bob = holder(database_url, servers, bob, not_before=since)
    assert on_bob != on_alice, "nginx kept both sockets on one process"
    return on_alice, on_bob


@pytest.mark.e2e
@pytest.mark.postgres
@pytest.mark.redis
def test_two_users_through_nginx_survive_losing_a_process(
    browser, fresh_database: str, clean_redis: str, tmp_path: Path
) -> None:
    appserver.migrate(fresh_database)
    proxy_port = appserver.free_port()
    web_dir = appserver.build_frontend(proxy_port)
    servers: list[appserver.AppServer] = []
    nginx = None
    try:
        for i in range(2):
            servers.append(
                appserver.start_server(
                    web_dir,
                    port=appserver.free_port(),
                    database_url=fresh_database,
                    redis_url=clean_redis,
                    workers=2,
                    public_port=proxy_port,
                    extra_env=FAST_HASHING,
                    name=f"proxied{i}",
                )
            )
        nginx = start_nginx(tmp_path / "nginx", proxy_port, [s.url[7:] for s in servers])
        base = f"http://127.0.0.1:{proxy_port}"
        alice = browser.new_context().new_page()
        bob = browser.new_context().new_page()

        chat_ui.sign_up(alice, base, "alice")
        chat_ui.join_room(alice, "lobby")
        chat_ui.sign_up(bob, base, "bob")
        chat_ui.join_room(bob, "lobby")
        assert alice.url.startswith(base) and bob.url.startswith(base)

        on_alice, on_bob = move_apart(fresh_database, servers, alice, bob, base)

        chat_ui.send(alice, "before the crash, from alice")
        chat_ui.expect_message(bob, "before the crash, from alice")
        chat_ui.send(bob, "before the crash, from bob")
        chat_ui.expect_message(alice, "before the crash, from bob")

        # Reload through the proxy: the session (browser storage) and the room survive.
        alice.reload()
        expect(alice.get_by_test_id("current-username")).to_have_text("alice")
        expect(alice).to_have_url(re.compile(r"/rooms/lobby/?$"))
        chat_ui.expect_message(alice, "before the crash, from bob")
        # Closed sockets are logged: the reload closed Alice's first one.
        # The query string (the tab token) is left out of the log.
        log = nginx.access_log
        assert '"GET /_event/ HTTP/1.1" 101 ' in log and "token=" not in log, log[-2000:]

        # Crash the process holding Alice's socket; Bob's stays on the other one.
        on_alice, on_bob = move_apart(fresh_database, servers, alice, bob, base)
        bob_token = _token(bob)
        victim, survivor = on_alice, on_bob
        servers[victim].kill()

        # Alice's tab reconnects by itself, through nginx, to the survivor.
        since = time.time()
        assert holder(fresh_database, servers, alice, not_before=since, timeout=30) == survivor
        assert _token(bob) == bob_token  # Bob's tab was never on the dead process
        for text in ("before the crash, from alice", "before the crash, from bob"):
            chat_ui.expect_message(alice, text)
            chat_ui.expect_message(bob, text)

        chat_ui.send(bob, "after the crash, from bob")
        chat_ui.expect_message(alice, "after the crash, from bob")
        chat_ui.send(alice, "after the crash, from alice")
        chat_ui.expect_message(bob, "after the crash, from alice")

        # Nothing acknowledged was lost: a fresh load shows all four, in order.
        alice.reload()
        expect(alice.get_by_test_id("message-body").filter(has_text="crash")).to_have_text(
            [
                "before the crash, from alice",
                "before the crash, from bob",
                "after the crash, from bob",
                "after the crash, from alice",
            ],
            timeout=chat_ui.TIMEOUT_MS,
        )
        upstreams = set(re.findall(r'"GET /_event/ [^"]*" 101 .* upstream=(\S+)', nginx.access_log))
        assert len(upstreams) >= 2, nginx.access_log[-2000:]  # sockets used both processes
    finally:
        if nginx is not None:
            nginx.stop()
        for server in servers:
            server.stop()


def test_the_session_cookie_is_set_through_nginx_with_every_header(proxy) -> None:
    """Log-in's HTTP side passes the proxy: the cookie arrives, the headers once each."""
    nginx, _ = proxy
    conn = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=15)
    try:
        body = json.dumps({"username": f"np{uuid.uuid4().hex[:6]}", "password": "password123"})
        conn.request(
            "POST",
            "/api/session/signup",
            body=body,
            headers={
                "Content-Type": "application/json",
                "Origin": f"http://localhost:{nginx.port}",
            },
        )
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    assert resp.status == 200
    (cookie,) = resp.headers.get_all("Set-Cookie") or []
    assert (
        cookie.startswith("blabber_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    )
    assert_security_headers(resp)
