"""The Reflex app: pages, the health endpoint and this worker's realtime task.

Nothing imports this module; Reflex loads it by name (``app_name``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import reflex as rx
import reflex.model  # imported for its side effect; see below
from reflex.event import EventSpec
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from blabber import csp, db, routes
from blabber.components.common import APP_STYLE
from blabber.endpoints import files as file_endpoints
from blabber.endpoints import session as session_endpoints
from blabber.endpoints import uploads
from blabber.headers import SecurityHeaders
from blabber.heap import freeze_startup_heap
from blabber.pages import admin, direct, home, login, room, signup
from blabber.pages import settings as settings_page
from blabber.realtime.broker import get_broker
from blabber.realtime.runtime import LiveRuntime, set_runtime
from blabber.realtime.transport import ReflexTransport
from blabber.settings import get_settings
from blabber.state.feed import FeedState
from blabber.state.live_events import tab_applier

if TYPE_CHECKING:
    import redis.asyncio as aioredis

# ``reflex.model`` (SQLModel, pygments lexers...) is imported lazily by Reflex
# while preparing the payload of the first handler event with arguments, so
# each worker's first ``send`` stalled for ~1-2 s (py-spy, bench/RESULTS.md).
# Importing it here moves that cost to worker start.

log = logging.getLogger("blabber")
HEALTH_TIMEOUT = 2.0  # seconds per dependency probe


async def _database_ok() -> bool:
    import sqlalchemy as sa

    def ping() -> None:
        with db.get_engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    try:
        await asyncio.wait_for(asyncio.to_thread(ping), timeout=HEALTH_TIMEOUT)
    except Exception:
        return False
    return True


class _HealthRedis:
    """The Redis client ``/healthz`` pings: one per worker process, made on first use.

    A client per probe would open (and tear down) a TCP connection to Redis
    per request. This one keeps at most two connections, waits at most
    ``HEALTH_TIMEOUT`` for a free one, and has the probe's socket timeouts,
    so a dead Redis still answers "down" within the bound. Closed at shutdown
    (:func:`_close_health_redis`).
    """

    def __init__(self) -> None:
        self._client: aioredis.Redis | None = None

    def client(self, url: str) -> aioredis.Redis:
        """The shared ``redis.asyncio.Redis`` (``url`` is the settings' one, fixed per process)."""
        if self._client is None:
            import redis.asyncio as aioredis

            pool = aioredis.BlockingConnectionPool.from_url(
                url,
                max_connections=2,
                timeout=HEALTH_TIMEOUT,
                socket_connect_timeout=HEALTH_TIMEOUT,
                socket_timeout=HEALTH_TIMEOUT,
            )
            self._client = aioredis.Redis.from_pool(pool)
        return self._client

    async def aclose(self) -> None:
        """Close the client and its connections, if one was made."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()


_health_redis = _HealthRedis()


@contextlib.asynccontextmanager
async def _close_health_redis() -> AsyncIterator[None]:
    """Lifespan step: close the shared health-check Redis client at shutdown."""
    try:
        yield
    finally:
        await _health_redis.aclose()


async def _redis_ok(url: str) -> bool:
    client = _health_redis.client(url)
    try:
        return bool(await asyncio.wait_for(client.ping(), timeout=HEALTH_TIMEOUT))  # type: ignore[arg-type]
    except Exception:
        return False


async def healthz(_request) -> JSONResponse:
    """Readiness: 200 when every backing service answers, else 503 naming what is down.

    An answer at all means the worker is alive (liveness), so a supervisor
    can tell "this process is stuck" (no answer) from "a dependency is down"
    (503, restarting the worker would not help). With Redis configured it is
    checked too: tab state and live delivery both live there. Each probe is
    bounded, so the endpoint never hangs on a dead service.
    """
    checks = {"database": _database_ok()}
    redis_url = get_settings().redis_url
    if redis_url:
        checks["redis"] = _redis_ok(redis_url)
    results = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    body: dict[str, str] = {name: "ok" if ok else "down" for name, ok in results.items()}
    healthy = all(results.values())
    body["status"] = "ok" if healthy else "unavailable"
    return JSONResponse(body, status_code=200 if healthy else 503)


UNAVAILABLE = "Chat is temporarily unavailable; reconnecting… try again in a moment."
FAILED = "Something went wrong; please try again."


def _is_outage(exception: BaseException) -> bool:
    """Whether ``exception`` (or what caused it) means a backing service is unreachable."""
    import redis
    import sqlalchemy as sa

    outages = (
        sa.exc.OperationalError,  # server gone, connection refused or reset
        sa.exc.InterfaceError,
        sa.exc.TimeoutError,  # connection pool exhausted
        redis.ConnectionError,
        redis.TimeoutError,
        ConnectionError,
        TimeoutError,
    )
    seen: set[int] = set()
    exc: BaseException | None = exception
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, outages):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def backend_exception_handler(exception: Exception) -> EventSpec:
    """What a user sees when an event handler (or Reflex around it) raises.

    Reflex's default shows "An error occurred. Contact the website
    administrator.", which is no help during an outage. A database or Redis
    outage (Reflex's Redis state manager raises before any handler runs)
    gets a notice that it is temporary; anything else a generic one. Never
    exception text: the details go to the log only. One toast id, so a
    burst of failing events shows one notice, not a stack of them.
    """
    outage = _is_outage(exception)
    log.error("event failed (%s)", "service unavailable" if outage else "bug", exc_info=exception)
    return rx.toast.error(
        UNAVAILABLE if outage else FAILED, id="blabber-error", position="top-center"
    )


def _redacted_database(url: str) -> str:
    """The database URL without its password, for the start line."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url.split(":", 1)[0]


def _check_and_log_start() -> None:
    """Refuse unsafe production settings, then log one line saying what we run with.

    Runs at import, i.e. in every server worker before it serves anything, so
    a production deploy with the default secret or no origin allow-list exits
    with the reason instead of serving. The line never contains secrets.
    """
    settings = get_settings()
    problems = settings.production_problems()
    if problems:
        message = "refusing to start in production: " + "; ".join(problems)
        raise SystemExit(message)
    log.warning(
        "blabber starting: database=%s broker=%s origins=%s production=%s",
        _redacted_database(settings.database_url),
        settings.broker_url.split(":", 1)[0],
        ",".join(settings.allowed_origins),
        settings.production,
    )


async def run_realtime(app: rx.App) -> None:
    """Lifespan task: this worker's live runtime (hub, room feeds, presence), until shutdown."""
    transport = ReflexTransport(app, FeedState.get_full_name())
    live = LiveRuntime(get_broker(), transport, tab_applier(app))
    set_runtime(live)
    try:
        await live.run()
    finally:
        set_runtime(None)


@functools.cache
def content_security_policy() -> str:
    """This process's Content-Security-Policy (``blabber/csp.py``), read once.

    It hashes the build's inline scripts and names the allowed origins'
    websockets; SecurityHeaders asks for it on the first response.
    """
    from reflex.utils import prerequisites
    from reflex_base import constants

    client_dir = prerequisites.get_web_dir() / constants.Dirs.STATIC
    return csp.content_security_policy(
        csp.inline_script_hashes(client_dir),
        csp.websocket_origins(get_settings().allowed_origins),
    )


_check_and_log_start()
api = Starlette(
    routes=[
        Route(routes.HEALTH, healthz),
        *(Route(path, endpoint, methods=["POST"]) for path, endpoint in session_endpoints.ROUTES),
        *(Route(path, endpoint, methods=[verb]) for path, endpoint, verb in file_endpoints.ROUTES),
    ]
)
# Applied in order: Reflex mounts its app (pages, static files, /_event) under
# `api`, then SecurityHeaders wraps the lot, so every HTTP response has them.
app = rx.App(
    api_transformer=[api, functools.partial(SecurityHeaders, policy=content_security_policy)],
    backend_exception_handler=backend_exception_handler,
    # The message list's "Jump to latest (N new)" counter (assets/message_list.js)
    # and the composer's @ suggestions (assets/mentions.js).
    head_components=[
        rx.script(src="/message_list.js", defer=True),
        rx.script(src="/mentions.js", defer=True),
        # Ctrl+K / Cmd+K and "/" focus "Search messages".
        rx.script(src="/search_keys.js", defer=True),
        # Attach files, drag and drop, paste: uploads with progress (the composer's tray).
        rx.script(src="/attachments.js", defer=True),
        # "Upload picture" on /settings.
        rx.script(src="/avatar_upload.js", defer=True),
        # Log-in, sign-up and Log out: the session cookie's HTTP side.
        rx.script(src="/session.js", defer=True),
        # On a phone the on-screen keyboard shrinks the layout (not just the
        # visual viewport), so the composer at the bottom stays above it.
        rx.el.meta(
            name="viewport",
            content="width=device-width, initial-scale=1, interactive-widget=resizes-content",
        ),
    ],
    # Plain toasts (the page's own colours; the icon still tells info from
    # error): sonner's "rich" info blue on pale blue is 4.35:1, under 4.5:1.
    toaster=rx.toast.provider(rich_colors=False),
    style=APP_STYLE,
)
for _page in (home, login, signup, room, direct, settings_page, admin):
    app.add_page(_page.page, **_page.PAGE)
app.register_lifespan_task(run_realtime)
app.register_lifespan_task(freeze_startup_heap)
app.register_lifespan_task(_close_health_redis)
app.register_lifespan_task(uploads.sweep_abandoned_uploads)
