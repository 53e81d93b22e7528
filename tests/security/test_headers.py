"""Every HTTP response of the app carries the anti-framing/sniffing headers (issue 12 finding 6).

Against a real backend started by the production entrypoint (Uvicorn), which
serves the built frontend's static files and the API on one port, as
``make run`` and the container do. Without these headers another site could
frame the app and trick a signed-in admin into clicking Kick (clickjacking).
The same headers through nginx: tests/deploy/test_proxy.py.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest

from tests.deploy.conftest import PLACEHOLDER_ASSET, placeholder_backend
from tests.support import appserver

EXPECTED = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


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


def assert_security_headers(resp: http.client.HTTPResponse) -> None:
    """Each header present exactly once (a duplicated X-Frame-Options confuses browsers)."""
    for name, value in EXPECTED.items():
        assert resp.headers.get_all(name) == [value], (name, resp.status, resp.getheaders())


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
