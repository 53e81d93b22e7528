"""Every HTTP response of the app carries the anti-framing/sniffing headers (issue 12 finding 6).

Against a real backend started by the production entrypoint (Uvicorn), which
serves the built frontend's static files and the API on one port, as
``make run`` and the container do. Without these headers another site could
frame the app and trick a signed-in admin into clicking Kick (clickjacking).
The same headers through nginx: tests/deploy/test_proxy.py.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
from collections.abc import Iterator

import pytest

from tests.deploy.conftest import PLACEHOLDER_ASSET, PLACEHOLDER_SCRIPT, placeholder_backend
from tests.support import appserver

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# Browser features nobody in a chat needs: every response turns them off.
FEATURES_OFF = ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()")
LOOSE_SOURCES = ("'unsafe-inline'", "*", "http:", "https:", "data:", "blob:")


def policy_of(value: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as ``{directive: [sources]}``."""
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        name, *sources = part.split()
        directives[name.lower()] = sources
    return directives


def assert_strict_csp(value: str) -> dict[str, list[str]]:
    """What issue 16 asks of the policy, whichever of the app or nginx sent it."""
    policy = policy_of(value)
    fallback = policy.get("default-src", [])
    assert policy["frame-ancestors"] == ["'none'"], value
    assert policy["base-uri"] == ["'none'"], value
    assert policy.get("object-src", fallback) == ["'none'"], value
    scripts = policy.get("script-src", fallback)
    assert not set(scripts) & set(LOOSE_SOURCES), value  # no inline or foreign script
    for source in policy.get("connect-src", fallback):
        assert source in ("'self'", "'none'") or source.startswith(
            ("ws://localhost:", "ws://127.0.0.1:")
        ), value
    return policy


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[appserver.AppServer]:
    """A backend serving a placeholder build with one page and one static asset."""
    server = placeholder_backend(tmp_path_factory.mktemp("headers"), "headers")
    yield server
    server.stop()


def get(port: int, path: str) -> tuple[http.client.HTTPResponse, bytes]:
    """GET ``path`` from 127.0.0.1:``port``: the response (every header line kept) and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


def assert_security_headers(resp: http.client.HTTPResponse) -> dict[str, list[str]]:
    """Each header present exactly once (a duplicated X-Frame-Options confuses browsers).

    Returns the Content-Security-Policy, parsed, for checks of its own.
    """
    for name, value in EXPECTED.items():
        assert resp.headers.get_all(name) == [value], (name, resp.status, resp.getheaders())
    [permissions] = resp.headers.get_all("Permissions-Policy") or [""]
    assert all(feature in permissions for feature in FEATURES_OFF), permissions
    [policy] = resp.headers.get_all("Content-Security-Policy") or [""]
    return assert_strict_csp(policy)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        (PLACEHOLDER_ASSET, 200),
        ("/healthz", 200),
        ("/ping", 200),
        ("/no-such-page.js", 404),
    ],
)
def test_every_http_response_has_security_headers(
    site: appserver.AppServer, path: str, status: int
) -> None:
    resp, _ = get(site.port, path)
    assert resp.status == status
    assert_security_headers(resp)


def test_the_policy_allows_the_builds_inline_scripts_by_hash_and_nothing_inline_else(
    site: appserver.AppServer,
) -> None:
    """The placeholder page's inline script is allowed by its hash; 'unsafe-eval' is there
    for Reflex's call_script; the websocket may go to the app's own origins only."""
    resp, _ = get(site.port, "/")
    policy = assert_security_headers(resp)
    digest = hashlib.sha256(PLACEHOLDER_SCRIPT.encode()).digest()
    assert f"'sha256-{base64.b64encode(digest).decode()}'" in policy["script-src"]
    assert policy["script-src"][0] == "'self'" and "'unsafe-eval'" in policy["script-src"]
    assert f"ws://localhost:{site.port}" in policy["connect-src"]
