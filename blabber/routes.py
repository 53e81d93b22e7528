"""URL paths, in one place so pages, redirects and tests agree."""

from collections.abc import Mapping

HOME = "/"
LOGIN = "/login"
SIGNUP = "/signup"
ROOM = "/rooms/[room_name]"
HEALTH = "/healthz"


def room_path(room_name: str) -> str:
    """The URL of a room page (names are URL-safe after validation, bar spaces)."""
    return "/rooms/" + room_name.replace(" ", "%20")


MESSAGE_PARAM = "message"  # /rooms/<name>?message=<id>: a permalink


def message_path(room_name: str, message_id: int) -> str:
    """A message's permalink (``Copy link``): its room page, showing it in context."""
    return f"{room_path(room_name)}?{MESSAGE_PARAM}={int(message_id)}"


def linked_message_id(query: Mapping[str, str]) -> int:
    """The message id a room URL's query names, or 0 (absent or not a positive id)."""
    raw = query.get(MESSAGE_PARAM, "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 18 else 0
