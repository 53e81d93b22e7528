"""The Reflex app: pages, the health endpoint and this worker's realtime task.

Nothing imports this module; Reflex loads it by name (``app_name``).
"""

from __future__ import annotations

import logging

import reflex as rx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from blabber import db, routes
from blabber.pages import home, login, room, signup
from blabber.settings import get_settings
from blabber.state.live import run_realtime

log = logging.getLogger("blabber")


async def healthz(_request) -> JSONResponse:
    """Liveness + readiness: the database answers."""
    import sqlalchemy as sa

    def ping() -> None:
        with db.get_engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    try:
        import asyncio

        await asyncio.to_thread(ping)
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok"})


def _redacted_database(url: str) -> str:
    """The database URL without its password, for the start line."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url.split(":", 1)[0]


def _check_and_log_start() -> None:
    """Refuse unsafe production settings, then log one line saying what we run with.

    Runs at import, i.e. in every Granian worker before it serves anything, so
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


_check_and_log_start()
api = Starlette(routes=[Route(routes.HEALTH, healthz)])
app = rx.App(api_transformer=api)
for _page in (home, login, signup, room):
    app.add_page(_page.page, **_page.PAGE)
app.register_lifespan_task(run_realtime)
