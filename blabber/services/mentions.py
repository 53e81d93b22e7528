"""@mentions: who a message names, read from its stored text on the server.

``@name`` names a member of the message's room (any case); ``@room`` names
everyone in a room (not in a direct conversation, where everyone is named
anyway; and only its admin, where the admin chose so). Text in code
(```` ``` ```` blocks and `` `spans` ``) names nobody, and neither does an
address like ``bob@example.com``. Trailing punctuation is not part of a
name unless a member's name really ends with it (``@bob.`` at the end of a
sentence names bob).

What is decided here is stored with the message (``Mention`` rows, written
in its transaction), so badges and notifications never trust the sender's
tab about who was named.
"""

from __future__ import annotations

import dataclasses
import re

import sqlalchemy as sa
from sqlmodel import Session, col, select

from blabber.models import Membership, Mention, Role, Room, RoomKind, User
from blabber.services.accounts import USERNAME_RE

EVERYONE = "room"
# An @ that does not continue a word or an address, then a name's characters.
_MENTION_RE = re.compile(r"(?<![\w.@-])@([A-Za-z0-9_.\-]{1,40})")
_CODE_RE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", re.S)
MAX_NAMED = 50  # distinct @names looked at per message; more are text


@dataclasses.dataclass(frozen=True)
class Mentions:
    """Who a message names: member ids, whether ``@room``, and names who are not members."""

    user_ids: frozenset[int] = frozenset()
    everyone: bool = False
    not_members: tuple[str, ...] = ()
    # ``@room`` was written where only the room's admin may use it: nobody was named by it.
    everyone_refused: bool = False


def named(text: str) -> tuple[list[tuple[str, ...]], bool]:
    """The ``@`` names in ``text`` outside code, each as its candidate spellings, and ``@room``.

    Each candidate tuple is the lower-cased name as written and, when it
    ends in ``.`` or ``-``, the name without them (most likely first is
    the exact one; :func:`resolve` picks the one that is a member).
    """
    plain = _CODE_RE.sub(" ", text or "")
    seen: dict[str, tuple[str, ...]] = {}
    everyone = False
    for match in _MENTION_RE.finditer(plain):
        word = match.group(1).lower()
        stripped = word.rstrip(".-")
        if stripped == EVERYONE:
            everyone = True
            continue
        spellings = tuple(dict.fromkeys(w for w in (word, stripped) if USERNAME_RE.fullmatch(w)))
        if spellings and word not in seen and len(seen) < MAX_NAMED:
            seen[word] = spellings
    return list(seen.values()), everyone


def resolve(session: Session, room_id: int, author_id: int, text: str) -> Mentions:
    """Who ``text`` names among ``room_id``'s members now (the author is never notified).

    Costs nothing for a message without ``@``; else one query for the
    room's members (and one for names that are not members).
    """
    if "@" not in (text or ""):
        return Mentions()
    names, everyone = named(text)
    refused = False
    if everyone:
        room = session.get(Room, room_id)
        everyone = room is not None and room.kind == RoomKind.ROOM.value
        if everyone and room is not None and room.everyone_mentions_admin_only:
            everyone = _is_admin(session, room_id, author_id)
            refused = not everyone
    keys = {spelling for spellings in names for spelling in spellings}
    if not keys and not everyone:
        return Mentions(everyone_refused=refused)
    query = (
        select(User.username_key, User.id)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.room_id == room_id)
    )
    if not everyone:  # only the named members (an index lookup each), not the whole room
        query = query.where(col(User.username_key).in_(sorted(keys)))
    rows = session.exec(query).all()
    members = {key: user_id for key, user_id in rows if user_id is not None}
    ids: set[int] = set(members.values()) if everyone else set()
    outside: list[str] = []
    for spellings in names:
        found = next((members[s] for s in spellings if s in members), None)
        if found is not None:
            ids.add(found)
        else:
            outside.extend(spellings[:1])
    existing = _existing_names(session, outside)
    ids.discard(author_id)
    not_members = tuple(n for n in outside if n in existing)
    return Mentions(frozenset(ids), everyone, not_members, everyone_refused=refused)


def _is_admin(session: Session, room_id: int, user_id: int) -> bool:
    role = session.exec(
        select(Membership.role).where(Membership.room_id == room_id, Membership.user_id == user_id)
    ).first()
    return role == Role.ADMIN.value


def _existing_names(session: Session, keys: list[str]) -> set[str]:
    """Which of ``keys`` are accounts (a mention of a stranger is said to be one)."""
    if not keys:
        return set()
    rows = session.exec(select(User.username_key).where(col(User.username_key).in_(keys))).all()
    return set(rows)


def notice(mentions: Mentions) -> str:
    """What the sender is told about names that notified nobody ("" when all went well)."""
    parts = []
    if mentions.not_members:
        names = [f"@{name}" for name in mentions.not_members]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        one = len(names) == 1
        parts.append(
            f"{listed} {'is not a member' if one else 'are not members'} here, "
            f"so {'was' if one else 'were'} not notified"
        )
    if mentions.everyone_refused:
        parts.append("only the room admin can mention @room here, so nobody was notified by it")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def record(session: Session, message_id: int, room_id: int, mentions: Mentions) -> None:
    """Store who a new message names, in its transaction (one multi-row insert)."""
    if mentions.user_ids:  # one multi-row INSERT, not one per row through the ORM
        session.execute(
            sa.insert(Mention),
            [
                {"message_id": message_id, "user_id": u, "room_id": room_id}
                for u in sorted(mentions.user_ids)
            ],
        )
