"""Browser security headers on every HTTP response the app sends (pure ASGI).

The server (``deploy/entrypoint.sh``: Uvicorn, also behind ``make run``)
serves the built frontend's static files, the pages, ``/healthz`` and the
websocket on one port; this middleware wraps all of it (``blabber.blabber``
passes it to ``rx.App`` as an ``api_transformer``), so every HTTP response
carries these headers whether or not nginx is in front (deploy/nginx.conf
adds the same ones where a response lacks them, e.g. its own error pages):

``Content-Security-Policy`` (``blabber/csp.py``, where each directive is explained)
    Scripts only from this origin and the build's own inline scripts (by
    hash), no plugins, no ``<base>``, connections only to this app, and
    ``frame-ancestors 'none'``.
``X-Frame-Options: DENY``
    No other site may show the app in a frame. A framed app can be overlaid
    with a decoy so that a signed-in admin's click lands on Kick
    (clickjacking). ``frame-ancestors`` is the standard; ``X-Frame-Options``
    covers browsers that predate it.
``Permissions-Policy``
    Camera, microphone, location, payment and the like are off for the app
    and anything it might embed; full screen and clipboard writes (``Copy
    link``) are for the app's own origin.
``X-Content-Type-Options: nosniff``
    The browser uses the declared content type and never sniffs one, so a
    response that is not a script or a stylesheet cannot be run as one.
``Referrer-Policy: strict-origin-when-cross-origin``
    A link followed to another site reveals only our origin, never the path
    (room names are in it: ``/rooms/<name>``); our own requests keep the full
    referrer. Not ``no-referrer``: under it browsers send ``Origin: null``
    on form submissions (Fetch spec), which would defeat an Origin check on
    any form endpoint we add, for no privacy gained within our own origin.

Websocket messages pass untouched (a frame has no headers; the handshake's
101 is made by the websocket server), as does the lifespan protocol. A
response that already sets one of these headers keeps its own value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from blabber import csp

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", csp.PERMISSIONS_POLICY.encode()),
)


# Without the build's hashes (no policy source given): no inline script at all.
STRICTEST_POLICY = csp.content_security_policy((), ())


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` and the CSP to every HTTP response.

    ``policy`` makes the Content-Security-Policy; it is called on the first
    response, when the frontend build it reads exists (``blabber.blabber``
    passes one that hashes the build's inline scripts).
    """

    def __init__(self, app: ASGIApp, policy: Callable[[], str] = lambda: STRICTEST_POLICY) -> None:
        """Wrap ``app``."""
        self.app = app
        self.policy = policy
        self._headers: tuple[tuple[bytes, bytes], ...] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to an HTTP response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        if self._headers is None:
            policy = (b"content-security-policy", self.policy().encode())
            self._headers = (*SECURITY_HEADERS, policy)
        ours = self._headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in ours if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
