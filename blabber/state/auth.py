"""Who is signed in, for this tab.

The session token lives in an ``HttpOnly`` cookie (``blabber/session_cookie.py``)
that only the session endpoints set and clear (``blabber/endpoints/session.py``:
the log-in and sign-up forms post there, then the page loads afresh). No
script on the page can read it, and no handler here receives it: the server
reads it from the headers of this tab's websocket handshake, which Reflex
copies into every event's router data from the connection itself,
overwriting whatever the event claims. The resulting user id is kept in a
backend-only var and is the only identity any handler trusts. Event
arguments never name a user, and the client's address (for per-address rate
limits) comes from the connection too.

Identity is proven per connection. The server keeps a tab's state under its
tab token, which travels in the websocket URL; so a verified identity is
remembered together with the socket that proved it (``_token_sid``), and a
new socket presenting the same tab token is checked afresh from its own
cookie. A socket without the cookie has no identity, whatever the tab's
state remembers.
"""

from __future__ import annotations

import time

import reflex as rx
from reflex.event import EventSpec

from blabber import db, routes, session_cookie
from blabber.realtime.hub import get_hub
from blabber.services import accounts

# How long a validated token is trusted before it is checked again, so a
# session revoked elsewhere stops working within this many seconds even if
# its revocation event was missed.
RECHECK_SECONDS = 30.0


class AuthState(rx.State):
    """The signed-in identity of this tab, and the guards of the public pages."""

    username: str = ""

    _user_id: int = 0
    _token_hash: str = ""
    _checked_at: float = 0.0
    _token_sid: str = ""  # the socket whose cookie proved ``_user_id``

    def _socket_id(self) -> str:
        try:
            return self.router.session.session_id or ""
        except Exception:  # no router yet (state being built): no socket
            return ""

    def _session_token(self) -> str:
        """The session cookie this socket's handshake carried (``""``: none)."""
        try:
            header = self.router.headers.cookie
        except Exception:  # no router yet: no socket, no cookie
            return ""
        return session_cookie.token_from_cookie_header(header)

    @rx.var
    def signed_in(self) -> bool:
        """Whether this tab has a verified user."""
        return bool(self.username)

    async def _current_user_id(self) -> int | None:
        """The verified user id, rechecking the cookie's session when the check is old.

        None unless this very socket's cookie names a live session (module docstring).
        """
        sid = self._socket_id()
        # Wall-clock time: this state is pickled and may be loaded by another
        # worker process (Redis state manager), whose monotonic clock differs.
        fresh = 0 <= time.time() - self._checked_at < RECHECK_SECONDS
        if self._user_id and self._token_sid == sid and fresh:
            return self._user_id
        token = self._session_token()
        user = await db.run_in_session(accounts.user_for_token, token) if token else None
        if user is None:
            self._forget()
            return None
        self._user_id, self._token_hash, self._token_sid = user.user_id, user.token_hash, sid
        self.username = user.username
        self._checked_at = time.time()
        return self._user_id

    def _forget(self) -> None:
        """Drop the identity, and this tab from the worker's hub.

        Without the hub step a tab that logged out (and stays open on /login)
        would keep heartbeating its former user as online and keep receiving
        that user's room events until it closed.
        """
        self._user_id, self._token_hash, self._checked_at = 0, "", 0.0
        self.username = ""
        hub = get_hub()
        if hub is not None:
            hub.forget(self.router.session.client_token)

    def _revoked(self, token_hash: str) -> bool:
        """Handle a revoked session; True when it was this tab's."""
        if token_hash and token_hash == self._token_hash:
            self._forget()
            self._token_sid = ""  # the cookie is dead: never trust it again without a check
            return True
        return False

    # -- page guards ---------------------------------------------------------
    @rx.event
    async def require_login(self):
        """on_load of private pages: send anonymous visitors to /login."""
        if await self._current_user_id() is None:
            return rx.redirect(routes.LOGIN)
        return None

    @rx.event
    async def skip_if_signed_in(self):
        """on_load of /login and /signup: signed-in users go straight to the app."""
        if await self._current_user_id() is not None:
            return rx.redirect(routes.HOME)
        return None

    # -- log out -------------------------------------------------------------
    @rx.event
    def log_out_answered(self, logged_out: bool):
        """What ``Log out`` (assets/session.js) found: the page has moved on, or a notice.

        Anyone may call it; all it does is show the caller this notice.
        """
        if logged_out is True:
            return None
        return rx.toast.error(LOG_OUT_FAILED, id="blabber-log-out", position="top-center")


LOG_OUT_FAILED = "Could not log out right now; check your connection and try again"


def log_out() -> EventSpec:
    """The ``Log out`` button's action: clear the session cookie, then load the log-in page."""
    return rx.call_script("blabberSession.logOut()", callback=AuthState.log_out_answered)


def signed_out_elsewhere() -> EventSpec:
    """After the server ended this tab's session itself: clear the dead cookie, load /login."""
    return rx.call_script("blabberSession.logOut({ended: true})")
