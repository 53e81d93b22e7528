"""Per-address limits hold through the real handlers, and the address cannot be forged.

Two real backends: one configured behind a trusted proxy on 127.0.0.1 (as
nginx would be), where X-Forwarded-For names the client, and one with no
proxy configured, where that header is ignored and the connection's address
counts. Clients post the log-in and sign-up forms to the session endpoints
as the page's script does, with the headers a proxy (or a forger) would set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.security.conftest import start_backend, uniq
from tests.support.appserver import AppServer
from tests.support.reflex_client import AUTH, ReflexClient

STRICT = {
    "BLABBER_SIGNUP_ADDRESS_MAX": "2",
    "BLABBER_LOGIN_ADDRESS_MAX_FAILURES": "3",
    "BLABBER_BCRYPT_ROUNDS": "4",
}
SIGNUP_LOCKED = "Too many sign-ups from your network, try again in 60 minutes"
LOGIN_LOCKED = "Too many failed log-ins from your network, try again in 15 minutes"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """Behind a trusted proxy: 127.0.0.1 is the proxy, X-Forwarded-For is believed."""
    server = start_backend(
        tmp_path_factory, "ratelimit-proxied", {**STRICT, "BLABBER_TRUSTED_PROXIES": "127.0.0.1"}
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """No proxy configured: X-Forwarded-For is the client's to forge, so ignored."""
    server = start_backend(tmp_path_factory, "ratelimit-direct", STRICT)
    yield server
    server.stop()


@pytest.fixture
async def tab(request) -> AsyncIterator:
    """``await tab(server, forwarded_for)``: a connected tab; all closed afterwards."""
    made: list[ReflexClient] = []

    async def open_tab(server: AppServer, forwarded_for: str = "") -> ReflexClient:
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        client = ReflexClient(server.url, headers=headers)
        await client.connect()
        made.append(client)
        return client

    yield open_tab
    for client in made:
        await client.close()


async def submit(client: ReflexClient, endpoint: str, username: str, password: str) -> str:
    """Post a credentials form; returns its error ("" when it signed in)."""
    status, answer = await client.post_session(endpoint, username=username, password=password)
    assert (status == 200) == ("error" not in answer), (status, answer)
    return answer.get("error", "")


async def test_sign_ups_are_limited_per_forwarded_address(proxied, tab):
    for _ in range(2):
        assert await submit(await tab(proxied, "203.0.113.10"), "signup", uniq(), "password1") == ""
    locked = await tab(proxied, "203.0.113.10")
    name = uniq()
    assert await submit(locked, "signup", name, "password1") == SIGNUP_LOCKED
    assert locked.var(AUTH, "username") in (None, "")
    # A forged entry in front of the proxy's own does not escape the limit:
    # the proxy appends the real address last, and that is the one counted.
    forged = await tab(proxied, "198.51.100.99, 203.0.113.10")
    assert await submit(forged, "signup", uniq(), "password1") == SIGNUP_LOCKED
    # Another network is not affected.
    assert await submit(await tab(proxied, "203.0.113.11"), "signup", name, "password1") == ""


async def test_the_request_cannot_choose_the_address(proxied, tab):
    """Form fields and other headers naming an address are ignored."""
    for _ in range(2):
        await submit(await tab(proxied, "203.0.113.20"), "signup", uniq(), "password1")
    client = await tab(proxied, "203.0.113.20")
    client.headers.update({"X-Real-IP": "192.0.2.77", "Forwarded": "for=192.0.2.77"})
    status, answer = await client.post_session(
        "signup", username=uniq(), password="password1", client_address="192.0.2.77"
    )
    assert (status, answer.get("error")) == (429, SIGNUP_LOCKED)
    # Positive control: the same request from another address is let in.
    other = await tab(proxied, "203.0.113.21")
    other.headers.update({"X-Real-IP": "192.0.2.77"})
    status, _ = await other.post_session(
        "signup", username=uniq(), password="password1", client_address="192.0.2.77"
    )
    assert status == 200


async def test_failed_logins_are_limited_per_address(proxied, tab):
    victim = uniq("v")
    assert await submit(await tab(proxied, "203.0.113.30"), "signup", victim, "password1") == ""
    sprayer = await tab(proxied, "203.0.113.31")
    for name in (victim, uniq(), uniq()):  # one guess per username, as a sprayer does
        assert await submit(sprayer, "login", name, "wrong-guess") == (
            "Invalid username or password"
        )
    assert await submit(sprayer, "login", victim, "password1") == LOGIN_LOCKED
    # The victim, from their own network, still gets in.
    assert await submit(await tab(proxied, "203.0.113.30"), "login", victim, "password1") == ""


async def test_without_trusted_proxy_forwarded_for_is_ignored(direct, tab):
    """Rotating a forged X-Forwarded-For does not get a client past the limit."""
    for i in range(2):
        fresh = await tab(direct, f"192.0.2.{i}")
        assert await submit(fresh, "signup", uniq(), "password1") == ""
    rotated = await tab(direct, "192.0.2.200")
    assert await submit(rotated, "signup", uniq(), "password1") == SIGNUP_LOCKED
