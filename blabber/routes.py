"""URL paths, in one place so pages, redirects and tests agree."""

from collections.abc import Mapping

HOME = "/"
LOGIN = "/login"
SIGNUP = "/signup"
ROOM = "/rooms/[room_name]"
DIRECT = "/dm/[dm_id]"
SETTINGS = "/settings"
ADMIN = "/admin"
HEALTH = "/healthz"
# The session endpoints (blabber/endpoints/session.py): JSON POSTs that set or clear the cookie.
SESSION_LOGIN = "/api/session/login"
SESSION_SIGNUP = "/api/session/signup"
SESSION_LOGOUT = "/api/session/logout"


def room_path(room_name: str) -> str:
    """The URL of a room page (names are URL-safe after validation, bar spaces)."""
    return "/rooms/" + room_name.replace(" ", "%20")


def direct_path(room_id: int) -> str:
    """The stable URL of a direct conversation (its id: it has no name of its own)."""
    return f"/dm/{int(room_id)}"


def direct_id(path: str) -> int | None:
    """The conversation id a ``/dm/<id>`` path names; 0 for a malformed id; None if no DM path."""
    if "/dm/" not in path:
        return None
    raw = path.rsplit("/dm/", 1)[-1].strip("/")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 18 else 0


MESSAGE_PARAM = "message"  # /rooms/<name>?message=<id>: a permalink


def message_path(page_path: str, message_id: int) -> str:
    """A message's permalink (``Copy link``): its room's page, showing it in context.

    ``page_path`` is the room's ``room_path`` or the conversation's ``direct_path``.
    """
    return f"{page_path}?{MESSAGE_PARAM}={int(message_id)}"


def linked_message_id(query: Mapping[str, str]) -> int:
    """The message id a room URL's query names, or 0 (absent or not a positive id)."""
    raw = query.get(MESSAGE_PARAM, "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 18 else 0
