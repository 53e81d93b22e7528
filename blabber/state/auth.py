"""Who is signed in, for this tab.

The session token lives in the browser's localStorage (synced across tabs,
so logging out in one tab logs out the others) and is checked against the
database; the resulting user id is kept in a backend-only var and is the
only identity any handler trusts. Event arguments never name a user, and the
client's address (for per-address rate limits) comes from the connection.

Identity is proven per connection. The server keeps a tab's state under its
tab token, which also names the tab's next socket and travels in the
websocket URL; so the stored session token counts only on the socket that
presented it (the browser's hydrate on every (re)connect, a log-in, or
``ChatState.resume``). A socket that merely reuses a tab token has no identity.
"""

from __future__ import annotations

import functools
import logging
import time

import reflex as rx

from blabber import db, routes, security
from blabber.realtime.hub import get_hub
from blabber.realtime.runtime import runtime
from blabber.services import accounts
from blabber.services.errors import ServiceError
from blabber.settings import get_settings

# How long a validated token is trusted before it is checked again, so a
# session revoked elsewhere stops working within this many seconds even if
# its revocation event was missed.
RECHECK_SECONDS = 30.0
SESSION_STORAGE_KEY = "blabber_session"  # the browser's localStorage key for the token


log = logging.getLogger(__name__)


class AuthState(rx.State):
    """Sign-up, log-in and log-out forms plus the signed-in identity."""

    auth_token: str = rx.LocalStorage("", name=SESSION_STORAGE_KEY, sync=True)
    username: str = ""
    form_error: str = ""
    submitting: bool = False

    _user_id: int = 0
    _token_hash: str = ""
    _checked_at: float = 0.0
    _token_sid: str = ""  # the socket that presented ``auth_token`` (see __setattr__)

    def __setattr__(self, name: str, value) -> None:
        """Remember which socket set ``auth_token``.

        Every way the token arrives assigns it: Reflex's hydrate (reset, then
        the browser's stored value, on every (re)connect), ``update_vars_internal``
        when the browser's storage changes, a log-in, ``ChatState.resume``.
        So ``_token_sid`` is the socket that last presented a token, and a new
        socket that presented none does not match it.
        """
        super().__setattr__(name, value)
        if name == "auth_token":
            super().__setattr__("_token_sid", self._socket_id())

    def _socket_id(self) -> str:
        try:
            return self.router.session.session_id or ""
        except Exception:  # no router yet (state being built): no socket
            return ""

    @rx.var
    def signed_in(self) -> bool:
        """Whether this tab has a verified user."""
        return bool(self.username)

    async def _current_user_id(self) -> int | None:
        """The verified user id, rechecking the token when the check is old.

        None unless this very socket presented the token (module docstring).
        """
        if not self.auth_token or self._token_sid != self._socket_id():
            self._forget()
            return None
        # Wall-clock time: this state is pickled and may be loaded by another
        # worker process (Redis state manager), whose monotonic clock differs.
        if self._user_id and 0 <= time.time() - self._checked_at < RECHECK_SECONDS:
            return self._user_id
        user = await db.run_in_session(accounts.user_for_token, self.auth_token)
        if user is None:
            self._forget()
            return None
        self._user_id, self._token_hash = user.user_id, user.token_hash
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

    def _client_address(self) -> str:
        """The browser's address, for per-address rate limits.

        Reflex fills ``router.session.client_ip`` (the socket's peer) and the
        headers from the websocket connection and overwrites whatever the
        event's router data says, so a client cannot choose them; the
        X-Forwarded-For header is believed only from BLABBER_TRUSTED_PROXIES,
        and only BLABBER_TRUSTED_PROXY_HOPS entries deep.
        """
        settings = get_settings()
        return security.client_address(
            self.router.session.client_ip,
            self.router.headers.raw_headers.get("x-forwarded-for", ""),
            settings.trusted_proxies,
            hops=settings.trusted_proxy_hops,
        )

    def _signed_in(self, result: accounts.SignedIn) -> None:
        self.auth_token = result.token
        self._user_id = result.user_id
        # Needed at once, not after the first recheck: a log-out in another
        # tab is recognised as this tab's session by this hash.
        self._token_hash = security.hash_token(result.token)
        self.username = result.username
        self._checked_at = time.time()

    def _revoked(self, token_hash: str) -> bool:
        """Handle a revoked session; True when it was this tab's."""
        if token_hash and token_hash == self._token_hash:
            self._forget()
            self.auth_token = ""
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
        self.form_error = ""
        self.submitting = False
        if await self._current_user_id() is not None:
            return rx.redirect(routes.HOME)
        return None

    # -- forms ---------------------------------------------------------------
    @rx.event
    async def sign_up(self, form_data: dict):
        """Create an account from the sign-up form and land in the app.

        An invite link is ``/signup?invite=<code>``: the code is read from
        the page's URL (the service checks it; a bad one is refused clearly).
        """
        code = str(self.router.url.query_parameters.get("invite", ""))[:100]
        sign_up = functools.partial(accounts.sign_up, invite_code=code)
        async for update in self._submit_credentials(sign_up, form_data):
            yield update

    @rx.event
    async def log_in(self, form_data: dict):
        """Check the log-in form and land in the app."""
        async for update in self._submit_credentials(accounts.log_in, form_data):
            yield update

    async def _submit_credentials(self, service, form_data: dict):
        """Run ``service(username, password)`` with a loading state; errors stay on the form."""
        self.form_error, self.submitting = "", True
        yield
        try:
            result = await db.run_password_work(
                service,
                str(form_data.get("username", "")),
                str(form_data.get("password", "")),
                client_address=self._client_address(),
            )
        except ServiceError as err:
            self.form_error, self.submitting = err.message, False
            return
        except Exception:  # database down: a clear message, the form usable again
            log.exception("credentials check failed")
            self.form_error = "Log-in is unavailable right now; try again in a moment"
            self.submitting = False
            return
        self._signed_in(result)
        self.submitting = False
        yield rx.redirect(routes.HOME)

    @rx.event
    async def log_out(self):
        """Revoke this session everywhere and return to the log-in page."""
        token = self.auth_token
        if token:
            await db.run_in_session(accounts.log_out, token)
        self._forget()
        self.auth_token = ""
        # The socket stays open on /login: it must leave its room feed now.
        await runtime().follow(self.router.session.client_token)
        return rx.redirect(routes.LOGIN)
