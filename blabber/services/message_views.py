"""Building :class:`MessageView` rows: reply quotes and reactions loaded per page, not per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import Session, col, select

from blabber.models import Message, Reaction, User
from blabber.services.views import MessageView, ReactionView

EXCERPT_CHARS = 80  # a reply's quote: the original's first line, cut here
REACTION_NAMES = 50  # names listed per emoji (the hover); the count is always exact


def excerpt(body: str) -> str:
    """The first non-empty line of ``body``, at most :data:`EXCERPT_CHARS` characters."""
    line = next((part.strip() for part in body.splitlines() if part.strip()), "")
    return line if len(line) <= EXCERPT_CHARS else line[: EXCERPT_CHARS - 1] + "…"


def views_of(
    session: Session, rows: Sequence[tuple[Message, str | None]], *, new: bool = False
) -> list[MessageView]:
    """Views of ``(message, author name)`` rows, in the given order (two extra queries at most).

    ``new``: the rows were just inserted, so they have no reactions to read.
    """
    ids = [m.id for m, _ in rows if m.id is not None]
    reply_ids = {m.reply_to_id for m, _ in rows if m.reply_to_id}
    reactions = {} if new else _reactions(session, ids)
    originals = _originals(session, reply_ids)
    return [_view(m, name, reactions.get(m.id or 0, []), originals) for m, name in rows]


def view_of(session: Session, message: Message, *, new: bool = False) -> MessageView:
    """The view of one message (its author read from the database)."""
    author = session.get(User, message.author_id) if message.author_id else None
    return views_of(session, [(message, author.username if author else None)], new=new)[0]


def _view(
    msg: Message,
    author: str | None,
    reactions: list[ReactionView],
    originals: dict[int, tuple[str, str, bool]],
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
    )


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
        m.id: (name or "", "" if m.deleted_at else excerpt(m.body), m.deleted_at is not None)
        for m, name in rows
        if m.id is not None
    }
