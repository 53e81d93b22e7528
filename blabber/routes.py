"""URL paths, in one place so pages, redirects and tests agree."""

HOME = "/"
LOGIN = "/login"
SIGNUP = "/signup"
ROOM = "/rooms/[room_name]"
HEALTH = "/healthz"


def room_path(room_name: str) -> str:
    """The URL of a room page (names are URL-safe after validation, bar spaces)."""
    return "/rooms/" + room_name.replace(" ", "%20")
