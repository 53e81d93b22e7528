"""Profile pictures: setting, removing and reading them.

The picture is a small square WebP (services.images.avatar) stored under a
generated key; a new picture gets a new key and so a new URL
(routes.avatar_path), which lets browsers cache one for long without ever
showing a stale one. Anyone signed in may see anyone's picture, as anyone
may open their profile card. Rooms showing my messages re-read them after
a change (profiles.tell_rooms), so the new picture appears live.
"""

from __future__ import annotations

from sqlmodel import Session

from blabber.models import User
from blabber.services.errors import NotAllowed, NotFound
from blabber.services.file_store import delete_on_commit
from blabber.services.profiles import tell_rooms

GONE = "No such picture"
MAX_MB = 10  # a profile picture upload (and never over BLABBER_UPLOAD_MAX_MB)


def _me(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None or user.deactivated_at is not None:
        raise NotAllowed("Please log in again")
    return user


def set_avatar(session: Session, user_id: int, key: str) -> str:
    """Make the stored picture under ``key`` mine (the old one is deleted after commit)."""
    user = _me(session, user_id)
    delete_on_commit(session, [user.avatar_key])
    user.avatar_key = key
    session.add(user)
    tell_rooms(session, user_id)
    session.commit()
    return key


def remove_avatar(session: Session, user_id: int) -> bool:
    """``Remove picture``: back to initials. False if I had none."""
    user = _me(session, user_id)
    if not user.avatar_key:
        return False
    delete_on_commit(session, [user.avatar_key])
    user.avatar_key = None
    session.add(user)
    tell_rooms(session, user_id)
    session.commit()
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
