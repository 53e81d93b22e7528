"""The session endpoints and the cookie: set only over HTTP, read only from the handshake.

Against real backends (production entrypoint, SQLite): one with no proxy
configured and one behind a trusted proxy on 127.0.0.1, where
``X-Forwarded-Proto: https`` means the browser used TLS. Every negative
check has a positive control that differs only in the one thing checked.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.security.conftest import LENIENT, start_backend, uniq
from tests.security.test_headers import assert_security_headers
from tests.support.appserver import AppServer
from tests.support.reflex_client import AUTH, ROOT, SESSION_COOKIE, ReflexClient

PASSWORD = "password123"
LEAKS = ("Traceback", "Error:", 'File "')


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """A backend whose proxy (127.0.0.1) is trusted to say how the browser connected."""
    server = start_backend(
        tmp_path_factory, "session-proxied", {**LENIENT, "BLABBER_TRUSTED_PROXIES": "127.0.0.1"}
    )
    yield server
    server.stop()


def origin_of(server: AppServer) -> str:
    return f"http://localhost:{server.port}"


def post(
    server: AppServer,
    path: str,
    body: bytes | dict | None = None,
    *,
    origin: str | None = "own",
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> tuple[http.client.HTTPResponse, dict]:
    """POST to the server as a browser page would; the response (headers kept) and its JSON."""
    sent = {"Content-Type": content_type, **(headers or {})}
    if origin is not None:
        sent["Origin"] = origin_of(server) if origin == "own" else origin
    data = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        conn.request("POST", path, body=data, headers=sent)
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    answer = json.loads(raw) if raw.startswith(b"{") else {"raw": raw.decode(errors="replace")}
    for marker in LEAKS:
        assert marker not in raw.decode(errors="replace"), raw
    return resp, answer


def set_cookie(resp: http.client.HTTPResponse) -> tuple[str, dict[str, str]]:
    """The session cookie a response sets: its value and its attributes (lower-cased names)."""
    (line,) = [v for v in resp.headers.get_all("Set-Cookie") or [] if SESSION_COOKIE in v]
    parts = [p.strip() for p in line.split(";")]
    name, _, value = parts[0].partition("=")
    assert name == SESSION_COOKIE
    attributes = {}
    for part in parts[1:]:
        key, _, val = part.partition("=")
        attributes[key.lower()] = val
    return value, attributes


def users_named(server: AppServer, name: str) -> int:
    engine = sa.create_engine(server.database_url)  # type: ignore[attr-defined]
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT count(*) FROM users WHERE username = :n"), {"n": name}
            ).scalar_one()
    finally:
        engine.dispose()


async def signed_in_as(server: AppServer, token: str) -> str:
    """Who a fresh tab whose handshake carries ``token`` is, after its page load ("" = nobody)."""
    tab = ReflexClient(server.url)
    tab.session_token = token
    try:
        await tab.connect("/")

        def answered() -> bool:  # the page load ran: signed in, or sent to /login
            sent_away = any("/login" in json.dumps(e) for e in tab.frontend_events)
            return bool(tab.var(AUTH, "username")) or sent_away

        await tab.wait_for(answered, timeout=10)
        return tab.var(AUTH, "username") or ""
    finally:
        await tab.close()


async def test_sign_up_and_log_in_set_an_http_only_lax_cookie_and_never_show_the_token(backend):
    name = uniq("cookie")
    resp, answer = post(backend, "/api/session/signup", {"username": name, "password": PASSWORD})
    assert resp.status == 200 and answer == {"ok": True, "username": name}
    token, attributes = set_cookie(resp)
    assert len(token) >= 40 and token not in json.dumps(answer)
    assert attributes == {
        "path": "/",
        "max-age": str(30 * 86400),
        "httponly": "",
        "samesite": "Lax",
    }  # no Secure over plain http (see the proxied test), no Domain: this host only
    assert resp.headers["Cache-Control"] == "no-store"
    assert_security_headers(resp)
    assert await signed_in_as(backend, token) == name

    resp, answer = post(backend, "/api/session/login", {"username": name, "password": PASSWORD})
    assert resp.status == 200 and answer["ok"] is True
    second, _ = set_cookie(resp)
    assert second != token  # a session per log-in
    assert await signed_in_as(backend, second) == name

    resp, answer = post(backend, "/api/session/login", {"username": name, "password": "wrong!!"})
    assert (resp.status, answer) == (400, {"error": "Invalid username or password"})
    assert not resp.headers.get_all("Set-Cookie")


@pytest.mark.parametrize(
    "origin",
    [None, "http://evil.example", "null", "http://localhost:1", "http://localhost.evil.example"],
)
async def test_a_request_from_another_origin_is_refused_and_changes_nothing(backend, origin):
    name = uniq("csrf")
    if origin == "http://localhost:1":
        origin = f"http://localhost:{backend.port}.evil.example"  # a near miss of our own
    resp, answer = post(
        backend, "/api/session/signup", {"username": name, "password": PASSWORD}, origin=origin
    )
    assert resp.status == 403 and "did not come from Blabber" in answer["error"]
    assert not resp.headers.get_all("Set-Cookie")
    assert users_named(backend, name) == 0
    # Positive control: the same request from our own page creates the account.
    resp, _ = post(backend, "/api/session/signup", {"username": name, "password": PASSWORD})
    assert resp.status == 200 and users_named(backend, name) == 1
    token, _ = set_cookie(resp)

    # Log out from another site: refused, the session lives on.
    cookie = {"Cookie": f"{SESSION_COOKIE}={token}"}
    resp, _ = post(backend, "/api/session/logout", origin=origin, headers=cookie)
    assert resp.status == 403 and not resp.headers.get_all("Set-Cookie")
    assert await signed_in_as(backend, token) == name


async def test_log_out_revokes_the_session_live_and_clears_the_cookie(backend):
    alice = ReflexClient(backend.url)
    other_tab = ReflexClient(backend.url)
    try:
        await alice.sign_up(uniq("alice"))
        token = alice.session_token
        other_tab.session_token = token
        await other_tab.connect("/")
        await other_tab.wait_for(lambda: bool(other_tab.var(AUTH, "username")))

        resp, answer = post(
            backend, "/api/session/logout", headers={"Cookie": f"{SESSION_COOKIE}={token}"}
        )
        assert resp.status == 200 and answer == {"ok": True}
        value, attributes = set_cookie(resp)
        assert value == "" and attributes["max-age"] == "0" and "httponly" in attributes
        # The other tab of that session is told at once (it goes to /login) ...
        await other_tab.wait_for(lambda: not other_tab.var(AUTH, "username"), timeout=10)
        # ... and a copy of the token signs nobody in any more.
        assert await signed_in_as(backend, token) == ""
    finally:
        await alice.close()
        await other_tab.close()


async def test_a_socket_is_signed_in_only_by_the_cookie_of_its_own_handshake(backend):
    """A cookie named in an event's router data, or in a client-storage var, counts for nothing."""
    name = uniq("owner")
    resp, _ = post(backend, "/api/session/signup", {"username": name, "password": PASSWORD})
    token, _ = set_cookie(resp)
    intruder = ReflexClient(backend.url)
    try:
        await intruder.connect("/", {f"{AUTH}.auth_token_rx_state_": token}, hydrate=True)
        await intruder.sio.emit(
            "event",
            {
                "name": f"{ROOT}.reflex___state____on_load_internal_state.on_load_internal",
                "payload": {},
                "router_data": {
                    "pathname": "/",
                    "asPath": "/",
                    "headers": {"cookie": f"{SESSION_COOKIE}={token}"},
                },
            },
            namespace="/_event",
        )
        await intruder.processed()
        assert intruder.var(AUTH, "username") in (None, "")
        assert token not in json.dumps(intruder.received)
    finally:
        await intruder.close()
    assert await signed_in_as(backend, token) == name  # positive control: the handshake's


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"username=a&password=b", "text/plain", 415),
        (b"{not json", "application/json", 400),
        (b'["a", "b"]', "application/json", 400),
        (b'{"username": "' + b"x" * 5000 + b'"}', "application/json", 413),
    ],
)
def test_malformed_requests_get_a_clear_message(backend, body, content_type, status):
    resp, answer = post(backend, "/api/session/login", body, content_type=content_type)
    assert resp.status == status, answer
    assert answer == {"error": "The form could not be read; reload the page and try again"}
    assert not resp.headers.get_all("Set-Cookie")


def test_wrong_types_and_huge_fields_are_refused_by_the_rules(backend):
    resp, answer = post(backend, "/api/session/signup", {"username": 5, "password": ["x"]})
    assert resp.status == 400 and answer["error"].startswith("Username"), answer
    resp, answer = post(
        backend, "/api/session/signup", {"username": uniq("big"), "password": "p" * 900}
    )
    assert resp.status == 400 and "72 bytes" in answer["error"], answer


def test_the_cookie_is_secure_when_a_trusted_proxy_says_the_browser_used_tls(behind_proxy, backend):
    name = uniq("tls")
    over_tls = {"X-Forwarded-Proto": "https"}
    resp, _ = post(
        behind_proxy,
        "/api/session/signup",
        {"username": name, "password": PASSWORD},
        headers=over_tls,
    )
    token, attributes = set_cookie(resp)
    assert "secure" in attributes
    resp, _ = post(
        behind_proxy,
        "/api/session/logout",
        headers={**over_tls, "Cookie": f"{SESSION_COOKIE}={token}"},
    )
    assert "secure" in set_cookie(resp)[1]
    # The same header from a peer that is not a trusted proxy is not believed.
    resp, _ = post(
        backend,
        "/api/session/signup",
        {"username": uniq("tls"), "password": PASSWORD},
        headers=over_tls,
    )
    assert "secure" not in set_cookie(resp)[1]
    # And behind the proxy, plain http stays plain.
    resp, _ = post(behind_proxy, "/api/session/login", {"username": name, "password": PASSWORD})
    assert "secure" not in set_cookie(resp)[1]


def test_the_cookie_parser_ignores_malformed_and_foreign_cookies():
    from blabber.session_cookie import token_from_cookie_header

    assert token_from_cookie_header(f"a=1; {SESSION_COOKIE}=tok_en-1; b=2") == "tok_en-1"
    assert token_from_cookie_header("") == ""
    assert token_from_cookie_header("other=1") == ""
    assert token_from_cookie_header(f'{SESSION_COOKIE}="unterminated') == ""
    assert token_from_cookie_header(f"{SESSION_COOKIE}=" + "x" * 201) == ""


def test_a_form_submitted_before_the_script_loaded_is_answered_with_a_redirect(backend):
    """The browser's own urlencoded post (a click during hydration) still works."""
    name = uniq("native")
    body = f"username={name}&password={PASSWORD}".encode()
    native = "application/x-www-form-urlencoded"
    resp, _ = post(backend, "/api/session/signup", body, content_type=native)
    assert (resp.status, resp.headers["Location"]) == (303, "/")
    token, attributes = set_cookie(resp)
    assert token and "httponly" in attributes
    resp, _ = post(backend, "/api/session/login", b"username=x&password=y", content_type=native)
    assert (resp.status, resp.headers["Location"]) == (303, "/login")
    assert not resp.headers.get_all("Set-Cookie")
    # Another site's form gets nothing: the Origin check comes first.
    resp, _ = post(
        backend, "/api/session/signup", body, content_type=native, origin="http://evil.example"
    )
    assert resp.status == 403 and users_named(backend, name) == 1
