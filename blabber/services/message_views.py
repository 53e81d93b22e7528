"""Building :class:`MessageView` rows: quotes, reactions and grouping read per page, not per row."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from blabber.models import Message, MessageKind, Reaction, User
from blabber.routes import avatar_path
from blabber.services.file_types import files_label
from blabber.services.file_views import files_of
from blabber.services.views import GROUP_SECONDS, FileView, MessageView, ReactionView

EXCERPT_CHARS = 80  # a reply's quote: the original's first line, cut here
REACTION_NAMES = 50  # names listed per emoji (the hover); the count is always exact


def excerpt(body: str, file_names: Sequence[str] = ()) -> str:
    """The first non-empty line of ``body``, at most :data:`EXCERPT_CHARS` characters.

    A message of files alone is quoted by them ("📎 plan.pdf and 2 more files"),
    so a reply to a screenshot does not quote nothing.
    """
    line = next((part.strip() for part in body.splitlines() if part.strip()), "")
    line = line or files_label(file_names)
    return line if len(line) <= EXCERPT_CHARS else line[: EXCERPT_CHARS - 1] + "…"


def views_of(
    session: Session,
    rows: Sequence[tuple[Message, str | None]],
    *,
    new: bool = False,
    shown_names: Mapping[int, str] | None = None,
    avatars: Mapping[int, str] | None = None,
    files: Mapping[int, list[FileView]] | None = None,
) -> list[MessageView]:
    """Views of ``(message, author username)`` rows (four extra queries at most).

    ``rows`` are consecutive messages of one room, oldest first: one message,
    or one page of history. Each row's predecessor is the row before it; the
    first one's is read from the database.
    ``new``: the rows were just inserted, so they have no reactions to read.
    ``shown_names``, ``avatars``: the authors' display names and picture
    URLs by id, when the caller has them (a send); else they are read in
    one query. ``files``: the messages' files, when the caller has them (a
    send); else read in one query.
    """
    if not rows:
        return []
    ids = [m.id for m, _ in rows if m.id is not None]
    reply_ids = {m.reply_to_id for m, _ in rows if m.reply_to_id}
    reactions = {} if new else _reactions(session, ids)
    originals = _originals(session, reply_ids)
    previous = _predecessor(session, rows[0][0])
    if shown_names is None or avatars is None:
        shown_names, avatars = _shown_authors(
            session, {m.author_id for m, _ in rows if m.author_id}
        )
    if files is None:
        files = {} if new else files_of(session, ids)
    views = []
    for msg, name in rows:
        view = _view(msg, name, reactions.get(msg.id or 0, []), originals, previous)
        extra: dict[str, Any] = {
            "author_display": shown_names.get(msg.author_id or 0, ""),
            "author_avatar": avatars.get(msg.author_id or 0, ""),
            "files": [] if msg.deleted_at is not None else files.get(msg.id or 0, []),
        }
        extra = {field: value for field, value in extra.items() if value}
        views.append(dataclasses.replace(view, **extra) if extra else view)
        previous = _Neighbour(msg.kind, msg.author_id, msg.created_at)
    return views


def view_of(
    session: Session,
    message: Message,
    *,
    new: bool = False,
    files: list[FileView] | None = None,
) -> MessageView:
    """The view of one message (its author read from the database).

    ``files``: a new message's files, as just attached (else read).
    """
    author = session.get(User, message.author_id) if message.author_id else None
    shown: dict[int, str] = {}
    avatars: dict[int, str] = {}
    if author is not None and author.id:
        if author.display_name:
            shown[author.id] = author.display_name
        if author.avatar_key:
            avatars[author.id] = avatar_path(author.id, author.avatar_key)
    return views_of(
        session,
        [(message, author.username if author else None)],
        new=new,
        shown_names=shown,
        avatars=avatars,
        files={message.id or 0: files} if files is not None else None,
    )[0]


def _shown_authors(session: Session, author_ids: set[int]) -> tuple[dict[int, str], dict[int, str]]:
    """Display names and picture URLs of those authors who set them."""
    if not author_ids:
        return {}, {}
    rows = session.exec(
        select(User.id, User.display_name, User.avatar_key).where(
            col(User.id).in_(sorted(author_ids)),
            sa.or_(col(User.display_name).is_not(None), col(User.avatar_key).is_not(None)),
        )
    ).all()
    names = {user_id: name for user_id, name, _key in rows if user_id and name}
    avatars = {
        user_id: avatar_path(user_id, key) for user_id, _name, key in rows if user_id and key
    }
    return names, avatars


def _view(
    msg: Message,
    author: str | None,
    reactions: list[ReactionView],
    originals: dict[int, tuple[str, str, bool]],
    previous: _Neighbour | None,
) -> MessageView:
    # A reply whose original row is missing reads as deleted (rows are never removed).
    quote = originals.get(msg.reply_to_id, ("", "", True)) if msg.reply_to_id else ("", "", False)
    reply_author, reply_excerpt, reply_deleted = quote
    return MessageView(
        id=msg.id,  # type: ignore[arg-type]
        room_id=msg.room_id,
        author=author or "",
        kind=msg.kind,
        body=msg.body,
        created_at=msg.created_at.isoformat(),
        client_id=msg.client_id or "",
        seq=msg.seq,
        edited=msg.edited_at is not None,
        deleted=msg.deleted_at is not None,
        reply_to_id=msg.reply_to_id or 0,
        reply_author=reply_author,
        reply_excerpt=reply_excerpt,
        reply_deleted=reply_deleted,
        reactions=[] if msg.deleted_at is not None else reactions,
        continued=_continues(previous, msg),
        prev_at=previous.created_at.isoformat() if previous is not None else "",
    )


class _Neighbour(NamedTuple):
    """What grouping needs of the message before one: not its (possibly long) text."""

    kind: str
    author_id: int | None
    created_at: dt.datetime


def _continues(previous: _Neighbour | None, msg: Message) -> bool:
    """Whether ``msg`` goes under ``previous``'s heading: one person's, close in time."""
    return (
        previous is not None
        and msg.kind == previous.kind == MessageKind.USER.value
        and msg.author_id is not None
        and msg.author_id == previous.author_id
        and (msg.created_at - previous.created_at).total_seconds() <= GROUP_SECONDS
    )


def _predecessor(session: Session, msg: Message) -> _Neighbour | None:
    """The message just before ``msg`` in its room (one indexed lookup)."""
    if msg.id is None:
        return None
    row = session.exec(
        select(Message.kind, Message.author_id, Message.created_at)
        .where(Message.room_id == msg.room_id, col(Message.id) < msg.id)
        .order_by(col(Message.id).desc())
        .limit(1)
    ).first()
    return _Neighbour(*row) if row is not None else None


def _reactions(session: Session, message_ids: list[int]) -> dict[int, list[ReactionView]]:
    """Per message, its emoji in the order first chosen, with counts and names."""
    if not message_ids:
        return {}
    rows = session.exec(
        select(Reaction.message_id, Reaction.emoji, User.username)
        .join(User, col(User.id) == Reaction.user_id)
        .where(col(Reaction.message_id).in_(message_ids))
        .order_by(col(Reaction.id))
    ).all()
    grouped: dict[int, dict[str, list[str]]] = defaultdict(dict)
    for message_id, emoji, username in rows:
        grouped[message_id].setdefault(emoji, []).append(username)
    return {
        message_id: [
            ReactionView(emoji=e, count=len(names), users=names[:REACTION_NAMES])
            for e, names in by_emoji.items()
        ]
        for message_id, by_emoji in grouped.items()
    }


def _originals(session: Session, ids: set[int]) -> dict[int, tuple[str, str, bool]]:
    """Reply quotes: original id -> (author, excerpt, deleted)."""
    if not ids:
        return {}
    rows = session.exec(
        select(Message, User.username)
        .join(User, col(User.id) == Message.author_id, isouter=True)
        .where(col(Message.id).in_(sorted(ids)))
    ).all()
    return {
        m.id: (
            name or "",
            "" if m.deleted_at else excerpt(m.body, m.file_names.splitlines()),
            m.deleted_at is not None,
        )
        for m, name in rows
        if m.id is not None
    }
