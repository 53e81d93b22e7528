"""Profile pictures: setting, removing and reading them.

The picture is a small square WebP (services.images.avatar) stored under a
generated key; a new picture gets a new key and so a new URL
(routes.avatar_path), which lets browsers cache one for long without ever
showing a stale one. Anyone signed in may see anyone's picture, as anyone
may open their profile card. Rooms showing my messages re-read them after
a change (profiles.tell_rooms), so the new picture appears live.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from blabber.models import User, utcnow
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from blabber.services.file_store import delete_on_commit
from blabber.services.profiles import tell_rooms

GONE = "No such picture"
MAX_MB = 10  # a profile picture upload (and never over BLABBER_UPLOAD_MAX_MB)
# Each new picture re-sends my messages to every room I am in (tell_rooms): a
# person choosing another file in the file dialog is never this quick, a script
# is. Removing is not spaced: it needs a picture, so it adds at most one change
# per new picture, and "that was the wrong one, remove it" must work at once.
CHANGE_EVERY = dt.timedelta(seconds=3)
TOO_SOON = "You changed your picture a moment ago; wait a few seconds"


def _me(session: Session, user_id: int, *, for_update: bool = False) -> User:
    # ``with_for_update`` set at all skips the identity map: always a fresh read.
    user = session.get(User, user_id, with_for_update=True if for_update else None)
    if user is None or user.deleted_at is not None or user.deactivated_at is not None:
        raise NotAllowed("Please log in again")
    return user


def check_change(session: Session, user_id: int, *, for_update: bool = False) -> User:
    """Me, if I may set a new picture now; else :data:`TOO_SOON` (before any bytes are sent)."""
    user = _me(session, user_id, for_update=for_update)
    changed = user.avatar_changed_at
    if changed is not None and utcnow() - changed < CHANGE_EVERY:
        raise ServiceError(TOO_SOON)
    return user


def _changed(session: Session, user: User, key: str | None) -> None:
    delete_on_commit(session, [user.avatar_key])
    user.avatar_key = key
    if key is not None:
        user.avatar_changed_at = utcnow()
    session.add(user)
    tell_rooms(session, user.id)  # type: ignore[arg-type]
    session.commit()


def set_avatar(session: Session, user_id: int, key: str) -> str:
    """Make the stored picture under ``key`` mine (the old one is deleted after commit).

    The spacing is checked again here, on my row locked (PostgreSQL), so two
    uploads at once cannot both pass it.
    """
    _changed(session, check_change(session, user_id, for_update=True), key)
    return key


def remove_avatar(session: Session, user_id: int) -> bool:
    """``Remove picture``: back to initials. False if I had none."""
    user = _me(session, user_id)
    if not user.avatar_key:
        return False
    _changed(session, user, None)
    return True


def avatar_key(session: Session, viewer_id: int, user_id: object, version: object) -> str:
    """The storage key of ``user_id``'s current picture, for a signed-in viewer.

    ``version`` is the last part of the key, as the URL carries it: an old
    URL (a replaced or removed picture) is "not found".
    """
    _me(session, viewer_id)
    if not isinstance(user_id, int) or not isinstance(version, str):
        raise NotFound(GONE)
    user = session.get(User, user_id)
    key = user.avatar_key if user is not None and user.deleted_at is None else None
    if not key or key.rsplit("/", 1)[-1] != version:
        raise NotFound(GONE)
    return key
