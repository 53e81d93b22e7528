"""The Content-Security-Policy and Permissions-Policy every response carries.

What the policy allows, and why nothing more:

``script-src 'self' 'sha256-…' 'unsafe-eval'``
    Scripts from our own origin (the bundle, ``/mentions.js``…) and the
    inline scripts of the built pages, each by the hash of its text, read
    from the build (:func:`inline_script_hashes`): React Router's hydration
    context and the colour-mode and scroll-restoration snippets. No
    ``'unsafe-inline'``: a script injected into a page does not run.
    ``'unsafe-eval'`` stays because Reflex runs ``rx.call_script`` and its
    callbacks with ``eval`` (``utils/state.js``); what reaches it is code
    the server sent, never user text.
``style-src 'self' 'unsafe-inline'``
    Emotion (Reflex's CSS-in-JS) and Radix insert ``<style>`` elements and
    ``style`` attributes at run time, without a nonce to give them. Styles
    cannot run code; the cost is that injected CSS could restyle a page.
``connect-src 'self'`` plus the ``ws(s)://`` form of each allowed origin
    The websocket and fetches go to this app only (older browsers do not
    count ``ws:`` as ``'self'``, hence the explicit origins).
``img-src 'self' data: blob:``, ``font-src 'self' data:``
    Our own images and fonts; ``data:`` for the icons Radix inlines.
``object-src 'none'``, ``base-uri 'none'``, ``frame-ancestors 'none'``,
``form-action 'self'``, ``default-src 'self'``
    No plugins, no ``<base>`` hijack, no framing (clickjacking), forms post
    only here, and anything not named above comes only from here.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

# An inline script: no src attribute, then its text.
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)

PERMISSIONS_POLICY = (
    ", ".join(
        f"{feature}=()"
        for feature in (
            "accelerometer",
            "camera",
            "display-capture",
            "geolocation",
            "gyroscope",
            "magnetometer",
            "microphone",
            "midi",
            "payment",
            "serial",
            "usb",
            "xr-spatial-tracking",
        )
    )
    + ", fullscreen=(self), clipboard-write=(self)"
)


def inline_script_hashes(client_dir: Path) -> list[str]:
    """``'sha256-…'`` of every inline script in the built pages under ``client_dir`` (sorted)."""
    found: set[str] = set()
    if client_dir.is_dir():
        for page in client_dir.rglob("*.html"):
            for text in _INLINE_SCRIPT.findall(page.read_text(errors="replace")):
                digest = hashlib.sha256(text.encode()).digest()
                found.add(f"'sha256-{base64.b64encode(digest).decode()}'")
    return sorted(found)


def websocket_origins(allowed_origins: Iterable[str]) -> list[str]:
    """``ws://host`` / ``wss://host`` for each ``http(s)://host`` the app is served at."""
    sockets = []
    for origin in allowed_origins:
        scheme, sep, rest = origin.partition("://")
        if sep and scheme in ("http", "https") and rest:
            sockets.append(("wss" if scheme == "https" else "ws") + "://" + rest.rstrip("/"))
    return sockets


def content_security_policy(script_hashes: Iterable[str], sockets: Iterable[str]) -> str:
    """The policy above, with the build's inline-script hashes and the app's websocket origins."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes, "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *sockets],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())
