"""URL paths, in one place so pages, redirects and tests agree."""

import urllib.parse
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
# Files (blabber/endpoints/files.py): uploads, downloads, thumbnails, profile pictures.
FILE_UPLOAD = "/api/files"  # POST ?room=<id>, the raw file as the body
FILE = "/api/files/{file_id:int}/{name}"  # the name is only for the browser
THUMB = "/api/thumbs/{file_id:int}"
AVATAR_UPLOAD = "/api/avatar"  # POST: my profile picture
AVATAR = "/api/avatars/{user_id:int}/{version}"


def file_path(file_id: int, name: str) -> str:
    """Where a file is downloaded (its shown name last, so a saved copy is named right)."""
    return f"/api/files/{int(file_id)}/" + urllib.parse.quote(name, safe="")


def thumb_path(file_id: int) -> str:
    """A picture's inline thumbnail."""
    return f"/api/thumbs/{int(file_id)}"


def avatar_path(user_id: int, avatar_key: str | None) -> str:
    """A profile picture's URL ("" for none); a new picture has a new URL, so caches never lie."""
    if not avatar_key:
        return ""
    return f"/api/avatars/{int(user_id)}/{avatar_key.rsplit('/', 1)[-1]}"


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
