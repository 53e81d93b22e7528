"""What every HTTP endpoint of ours checks first: the request's origin, and who is signed in.

Identity is the session cookie's (blabber/session_cookie.py), looked up on
every request, exactly as a websocket's is on its handshake.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from blabber import db, session_cookie
from blabber.services import accounts
from blabber.settings import Settings

WRONG_ORIGIN = "This request did not come from Blabber's own page"


def answer(status: int, body: dict[str, Any]) -> JSONResponse:
    """A JSON answer that no cache keeps."""
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def refused(status: int, message: str) -> JSONResponse:
    """``{"error": message}``: the sentence the page shows."""
    return answer(status, {"error": message})


def origin_allowed(request: Request, settings: Settings) -> bool:
    """Whether a state-changing request came from one of our pages (its ``Origin`` header).

    Browsers send ``Origin`` on every POST and pages cannot forge it, so
    another site cannot make a visitor's browser act for them.
    """
    origin = request.headers.get("origin", "")
    return bool(origin) and ("*" in settings.allowed_origins or origin in settings.allowed_origins)


async def signed_in_user(request: Request) -> accounts.CurrentUser | None:
    """Who the request's session cookie logs in (checked now, off the event loop), or None."""
    token = session_cookie.token_from_cookie_header(request.headers.get("cookie", ""))
    if not token:
        return None
    return await db.run_in_session(accounts.user_for_token, token)
