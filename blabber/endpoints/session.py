"""``POST /api/session/login``, ``/signup``, ``/logout``: where the session cookie is set.

The log-in and sign-up forms post here (``assets/session.js``) instead of
sending the password over the websocket, because only an HTTP response can
set an ``HttpOnly`` cookie (``blabber/session_cookie.py``). The page then
loads afresh, so its new websocket carries the new cookie; a socket's
identity is the cookie of its own handshake and nothing else.

Every request must come from one of our origins (``BLABBER_ALLOWED_ORIGINS``),
by its ``Origin`` header, which browsers send on every POST and pages cannot
forge: so another site can neither log a visitor into an account of its
choosing nor out of theirs (``SameSite=Lax`` keeps the cookie off its
requests as well). Bodies are small JSON objects (or, for a form
submitted before the page's scripts ran, the browser's own urlencoded
post, answered with a redirect); anything else is refused with a message
before any work. Answers are JSON: ``{"ok": true}`` or
``{"error": "<what the person reads>"}``.

Password work runs in the password pool (``db.run_password_work``), never
on the event loop.
"""

from __future__ import annotations

import functools
import json
import logging
import urllib.parse
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from blabber import db, routes, security, session_cookie
from blabber.endpoints.common import WRONG_ORIGIN, answer, origin_allowed, refused
from blabber.services import accounts
from blabber.services.accounts import TooManyAttempts
from blabber.services.errors import ServiceError
from blabber.settings import Settings, get_settings

log = logging.getLogger(__name__)

JSON = "application/json"  # what assets/session.js sends
NATIVE_FORM = "application/x-www-form-urlencoded"  # a submit before the script ran
MAX_BODY_BYTES = 4096  # a username, a password and an invite code fit many times over
FIELD_LIMITS = {"username": 200, "password": 1000, "invite": 100}  # the services refuse sooner
UNAVAILABLE = "Log-in is unavailable right now; try again in a moment"
MALFORMED = "The form could not be read; reload the page and try again"


def _answer(status: int, body: dict[str, Any], *cookies: str) -> JSONResponse:
    response = answer(status, body)
    for cookie in cookies:
        response.headers.append("set-cookie", cookie)
    return response


def _over_tls(request: Request, settings: Settings) -> bool:
    """Whether the browser reached us over TLS: directly, or via a trusted proxy that says so."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
    return forwarded == "https" and security.is_trusted_proxy(peer, settings.trusted_proxies)


def _client_address(request: Request, settings: Settings) -> str:
    """The browser's address for per-address limits (``security.client_address``)."""
    return security.client_address(
        request.client.host if request.client else "",
        request.headers.get("x-forwarded-for", ""),
        settings.trusted_proxies,
        hops=settings.trusted_proxy_hops,
    )


async def _form(request: Request) -> dict[str, str] | JSONResponse:
    """The posted form's string fields (cut to size), or the refusal to send.

    JSON from the page's script; or, when the form was submitted before the
    page's scripts ran (a click during hydration), the browser's own
    urlencoded POST, marked ``native`` so the answer is a redirect.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind not in (JSON, NATIVE_FORM):
        return refused(415, MALFORMED)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return refused(413, MALFORMED)
    data: object
    if kind == NATIVE_FORM:
        fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
        data = {name: values[0] for name, values in fields.items()}
    else:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return refused(400, MALFORMED)
    if not isinstance(data, dict):
        return refused(400, MALFORMED)
    form = {
        name: value[:limit] if isinstance(value := data.get(name, ""), str) else ""
        for name, limit in FIELD_LIMITS.items()
    }
    form["native"] = "1" if kind == NATIVE_FORM else ""
    return form


async def _checked_form(request: Request) -> dict[str, str] | JSONResponse:
    """The form of a request from our own page, or the refusal to send."""
    if not origin_allowed(request, get_settings()):
        return refused(403, WRONG_ORIGIN)
    return await _form(request)


async def _start_session(
    request: Request,
    form: dict[str, str],
    service: Callable[..., accounts.SignedIn],
    form_page: str,
) -> Response:
    """Run ``service(username, password)`` and answer with the new session's cookie.

    A ``native`` form post gets a redirect instead of JSON: into the app, or
    back to ``form_page`` (without the reason: the script's path shows it).
    """
    answer = await _session_answer(request, form, service)
    if not form["native"]:
        return answer
    ok = answer.status_code == 200
    redirect = RedirectResponse(routes.HOME if ok else form_page, status_code=303)
    redirect.headers["Cache-Control"] = "no-store"
    for cookie in answer.headers.getlist("set-cookie"):
        redirect.headers.append("set-cookie", cookie)
    return redirect


async def _session_answer(
    request: Request, form: dict[str, str], service: Callable[..., accounts.SignedIn]
) -> JSONResponse:
    settings = get_settings()
    try:
        signed_in = await db.run_password_work(
            service,
            form["username"],
            form["password"],
            client_address=_client_address(request, settings),
        )
    except TooManyAttempts as err:
        return refused(429, err.message)
    except ServiceError as err:
        return refused(400, err.message)
    except Exception:  # database down: a clear message; the details go to the log only
        log.exception("credentials check failed")
        return refused(503, UNAVAILABLE)
    cookie = session_cookie.set_cookie_header(
        signed_in.token,
        max_age_seconds=settings.session_days * 86400,
        secure=_over_tls(request, settings),
    )
    return _answer(200, {"ok": True, "username": signed_in.username}, cookie)


async def log_in(request: Request) -> Response:
    """The ``Log in`` form: check the credentials, start a session."""
    form = await _checked_form(request)
    if isinstance(form, JSONResponse):
        return form
    return await _start_session(request, form, accounts.log_in, routes.LOGIN)


async def sign_up(request: Request) -> Response:
    """The ``Sign up`` form, with ``invite`` from an invite link's ``?invite=`` (checked there)."""
    form = await _checked_form(request)
    if isinstance(form, JSONResponse):
        return form
    service = functools.partial(accounts.sign_up, invite_code=form["invite"])
    return await _start_session(request, form, service, routes.SIGNUP)


async def log_out(request: Request) -> JSONResponse:
    """``Log out``: revoke this browser's session everywhere (its other tabs follow live).

    Needs no body, but the same Origin check: another site must not be able
    to log a visitor out either.
    """
    settings = get_settings()
    if not origin_allowed(request, settings):
        return refused(403, WRONG_ORIGIN)
    token = session_cookie.token_from_cookie_header(request.headers.get("cookie", ""))
    if token:
        try:
            await db.run_in_session(accounts.log_out, token)
        except Exception:
            log.exception("log-out failed")
            return refused(503, "Could not log out right now; try again in a moment")
    clear = session_cookie.clear_cookie_header(secure=_over_tls(request, settings))
    return _answer(200, {"ok": True}, clear)


ROUTES = (
    (routes.SESSION_LOGIN, log_in),
    (routes.SESSION_SIGNUP, sign_up),
    (routes.SESSION_LOGOUT, log_out),
)
