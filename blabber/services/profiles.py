"""Profiles: a display name, ``About``, a status that may clear itself, and a time zone.

The username stays the identity (unique, used by mentions and shown on the
profile card as ``@username``); the display name is how messages show the
person. Anyone signed in may open anyone's card, as anyone may message them.
A status past its expiry is simply not shown (nothing has to clear it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import zoneinfo

from sqlmodel import Session, col, select

from blabber.models import Membership, Message, User, utcnow
from blabber.realtime import events
from blabber.routes import avatar_path
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from blabber.services.outbox import publish_on_commit
from blabber.services.presence import online_user_ids

DISPLAY_MAX, ABOUT_MAX, STATUS_MAX = 50, 300, 80
# ``Clear status after``: its choices, and how long each keeps the status.
CLEAR_AFTER: dict[str, dt.timedelta | None] = {
    "never": None,
    "1h": dt.timedelta(hours=1),
    "4h": dt.timedelta(hours=4),
    "1d": dt.timedelta(days=1),
    "1w": dt.timedelta(weeks=1),
}
# Radix colours an avatar may take (shown soft, with step-12 initials: readable in each).
AVATAR_COLORS = ("tomato", "crimson", "plum", "violet", "indigo", "blue", "cyan", "teal", "grass")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclasses.dataclass(frozen=True)
class ProfileCard:
    """What clicking a name shows."""

    username: str = ""
    display_name: str = ""
    about: str = ""
    status: str = ""  # "" when none, or expired
    local_time: str = ""  # "14:05" in their time zone; "" when unknown
    time_zone: str = ""
    online: bool = False
    initials: str = ""
    color: str = "gray"
    avatar: str = ""  # the profile picture's URL, "" for none (initials)


def initials_of(name: str) -> str:
    """One or two letters for an avatar: the first of each of the first two words."""
    words = [w for w in re.split(r"[\s_.\-]+", name) if w]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def avatar_color(username: str) -> str:
    """The same colour for the same person everywhere (a digest of the username)."""
    digest = hashlib.sha256(username.lower().encode()).digest()
    return AVATAR_COLORS[digest[0] % len(AVATAR_COLORS)]


def _line(value: object, limit: int, what: str) -> str:
    """One line of text, spaces collapsed, at most ``limit`` characters ("" allowed)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ServiceError(f"{what} must be text")
    cleaned = " ".join(_CONTROL.sub(" ", value).split())
    if len(cleaned) > limit:
        raise ServiceError(f"{what} is at most {limit} characters")
    return cleaned


def update_profile(
    session: Session,
    user_id: int,
    *,
    display_name: object,
    about: object,
    status: object,
    clear_after: object = "never",
    now: dt.datetime | None = None,
) -> ProfileCard:
    """Save my profile (all fields or none); messages show a new display name live."""
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotAllowed("Please log in again")
    shown = _line(display_name, DISPLAY_MAX, "A display name")
    text = _line(about, ABOUT_MAX, "About")
    line = _line(status, STATUS_MAX, "A status")
    if not isinstance(clear_after, str) or clear_after not in CLEAR_AFTER:
        raise ServiceError("Choose when the status clears")
    keep = CLEAR_AFTER[clear_after]
    renamed = (shown or None) != user.display_name
    user.display_name, user.about, user.status_text = shown or None, text or None, line or None
    user.status_until = (now or utcnow()) + keep if line and keep else None
    session.add(user)
    if renamed:
        tell_rooms(session, user_id)
    session.commit()
    return card_of(user, online=True, now=now)


def tell_rooms(session: Session, user_id: int) -> None:
    """After commit, every room with a message of mine re-reads its rows (new name or picture)."""
    shown_in = session.exec(
        select(Message.room_id).where(Message.author_id == user_id).distinct()
    ).all()
    mine = session.exec(select(Membership.room_id).where(Membership.user_id == user_id)).all()
    publish_on_commit(
        session,
        events.Event(
            type=events.USER_RENAMED,
            user_id=user_id,
            data={"room_ids": sorted({*shown_in, *mine})},
        ),
    )


def remember_time_zone(session: Session, user_id: int, time_zone: object) -> bool:
    """Store the browser's IANA time zone (for my card's local time); False if unchanged."""
    if not isinstance(time_zone, str) or not 0 < len(time_zone) <= 64:
        raise ServiceError("Unknown time zone")
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ServiceError("Unknown time zone") from None
    user = session.get(User, user_id)
    if user is None or user.time_zone == time_zone:
        return False
    user.time_zone = time_zone
    session.add(user)
    session.commit()
    return True


def profile_card(
    session: Session, viewer_id: int, username: object, *, ttl_seconds: int, now=None
) -> ProfileCard:
    """``username``'s card for a signed-in viewer; NotFound for no one (or a deleted account)."""
    if session.get(User, viewer_id) is None:
        raise NotAllowed("Please log in again")
    if not isinstance(username, str) or not 0 < len(username) <= 32:
        raise NotFound("No one by that name")
    user = session.exec(
        select(User).where(User.username_key == username.lower(), col(User.deleted_at).is_(None))
    ).first()
    if user is None or user.id is None:
        raise NotFound("No one by that name")
    online = user.id in online_user_ids(session, [user.id], ttl_seconds)
    return card_of(user, online=online, now=now)


def my_profile(session: Session, user_id: int) -> User:
    """My own row, for the settings form (NotAllowed once deleted)."""
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotAllowed("Please log in again")
    return user


def card_of(user: User, *, online: bool, now: dt.datetime | None = None) -> ProfileCard:
    """The card of ``user`` as of ``now`` (an expired status is left out)."""
    now = now or utcnow()
    until = user.status_until
    if until is not None and until.tzinfo is None:  # SQLite hands back naive UTC
        until = until.replace(tzinfo=dt.UTC)
    status = user.status_text or ""
    if until is not None and until <= now:
        status = ""
    local = ""
    if user.time_zone:
        try:
            local = now.astimezone(zoneinfo.ZoneInfo(user.time_zone)).strftime("%H:%M")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            local = ""
    shown = user.display_name or user.username
    return ProfileCard(
        username=user.username,
        display_name=user.display_name or "",
        about=user.about or "",
        status=status,
        local_time=local,
        time_zone=user.time_zone or "",
        online=online,
        initials=initials_of(shown),
        color=avatar_color(user.username),
        avatar=avatar_path(user.id or 0, user.avatar_key),
    )
