"""The session cookie: its name, how a response sets or clears it, and how a request's is read.

The session token lives only in this cookie. It is ``HttpOnly`` (no script
on the page, ours or an injected one, can read it), ``SameSite=Lax`` (another
site's form or fetch never carries it on a POST, so it cannot log anyone in or
out; a plain link to the app still arrives signed in) and ``Secure`` whenever
the browser reached us over TLS, so it never travels in clear after that.
``Path=/``: the websocket (``/_event``) and the session endpoints
(``/api/session/...``) both need it.

Set and cleared only by HTTP responses (``blabber/endpoints/session.py``);
the websocket's handshake carries it, and ``state/auth.py`` reads it from
there, on the server, for every connection. Reflex never sends request
cookies to the page (``reflex/istate/data.py``), so the token is not in any
state delta either.

Pure functions; imports nothing of blabber.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

COOKIE_NAME = "blabber_session"
# Before the cookie, the token lived in localStorage under this key; the
# page's session script (assets/session.js) deletes whatever is left there.
LEGACY_STORAGE_KEY = "blabber_session"
MAX_TOKEN_CHARS = 200  # accounts.user_for_token refuses longer ones unread


def token_from_cookie_header(header: str) -> str:
    """The session token a request's ``Cookie`` header carries, or ``""``.

    A malformed header (any other site's cookie on our domain can make one)
    counts as no session rather than an error.
    """
    if not header or COOKIE_NAME not in header:
        return ""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return ""
    morsel = jar.get(COOKIE_NAME)
    value = morsel.value if morsel is not None else ""
    return value if 0 < len(value) <= MAX_TOKEN_CHARS else ""


def set_cookie_header(token: str, *, max_age_seconds: int, secure: bool) -> str:
    """The ``Set-Cookie`` value that stores ``token`` for ``max_age_seconds``."""
    return _header(token, max_age_seconds, secure)


def clear_cookie_header(*, secure: bool) -> str:
    """The ``Set-Cookie`` value that removes the session cookie."""
    return _header("", 0, secure)


def _header(value: str, max_age: int, secure: bool) -> str:
    # Tokens are URL-safe base64 (security.new_session_token): no quoting needed.
    parts = [f"{COOKIE_NAME}={value}", "Path=/", f"Max-Age={max(0, int(max_age))}"]
    parts += ["HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)
