"""Sending and reading messages.

A send is idempotent per author: the tab picks ``client_id`` once per draft,
so a retried send (double click, reconnect) returns the stored message
instead of creating another. The realtime event is published exactly once,
after commit, by the outbox.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from blabber.models import Membership, Message, MessageKind, User, utcnow
from blabber.realtime import events
from blabber.services import files, mentions
from blabber.services.errors import NotFound, ServiceError
from blabber.services.message_views import view_of, views_of
from blabber.services.outbox import publish_on_commit
from blabber.services.room_order import next_change
from blabber.services.rooms import require_member
from blabber.services.views import MessageView
from blabber.settings import Settings, get_settings

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
MAX_PAGE = 100
LINK_GONE = "That message is not in this room"


def validate_body(body: str, settings: Settings, *, may_be_empty: bool = False) -> str:
    """The body to store (trailing/leading whitespace trimmed) or a clear refusal.

    ``may_be_empty``: the message carries files, so it needs no text.
    """
    if not isinstance(body, str):
        raise ServiceError("Message must be text")
    text = body.strip()
    if not text and not may_be_empty:
        raise ServiceError("Message is empty")
    if len(text) > settings.message_max_chars:
        raise ServiceError(
            f"Message is too long ({len(text):,} characters; the limit is "
            f"{settings.message_max_chars:,})"
        )
    if "\x00" in text:
        raise ServiceError("Message cannot contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a crafted payload: the DB would raise
        raise ServiceError("Message contains characters that cannot be stored") from None
    return text


def _existing(session: Session, user_id: int, client_id: str) -> Message | None:
    return session.exec(
        select(Message).where(Message.author_id == user_id, Message.client_id == client_id)
    ).first()


def _check_rate(session: Session, user_id: int, settings: Settings) -> None:
    since = utcnow() - dt.timedelta(seconds=settings.message_burst_seconds)
    recent = session.exec(
        select(func.count())
        .select_from(Message)
        .where(Message.author_id == user_id, col(Message.created_at) > since)
    ).one()
    if recent >= settings.message_burst:
        raise ServiceError("You are sending messages too fast; wait a few seconds")


@dataclasses.dataclass(frozen=True)
class Sent:
    """A stored message, and what its sender is told about it (e.g. a stranger was named)."""

    view: MessageView
    notice: str = ""


def send_message(
    session: Session,
    user_id: int,
    room_id: int,
    body: str,
    client_id: str,
    *,
    reply_to_id: int = 0,
    attachment_ids: str = "",
    settings: Settings | None = None,
) -> MessageView:
    """Store a message from a member and publish it after commit (see :func:`send_noting`)."""
    return send_noting(
        session,
        user_id,
        room_id,
        body,
        client_id,
        reply_to_id=reply_to_id,
        attachment_ids=attachment_ids,
        settings=settings,
    ).view


def send_noting(
    session: Session,
    user_id: int,
    room_id: int,
    body: str,
    client_id: str,
    *,
    reply_to_id: int = 0,
    attachment_ids: object = "",
    settings: Settings | None = None,
) -> Sent:
    """Store a message from a member, publish it after commit, and say what the sender should know.

    ``reply_to_id`` names the message this one answers: a message of the
    same room that is not deleted, else a clear refusal. A retry of a send
    already stored (the same ``client_id``) returns that message, with no
    notice: it was given the first time. ``attachment_ids`` names my unsent
    uploads to this room (``"3,4"``), attached in the same transaction
    (services.files.attach); with files, the text may be empty.
    """
    settings = settings or get_settings()
    if not isinstance(client_id, str) or not CLIENT_ID_RE.fullmatch(client_id):
        raise ServiceError("Invalid message id; reload the page")
    require_member(session, user_id, room_id)
    file_ids = files.parse_ids(attachment_ids)
    text = validate_body(body, settings, may_be_empty=bool(file_ids))
    existing = _existing(session, user_id, client_id)
    if existing is not None:
        if existing.room_id != room_id:
            raise ServiceError("Invalid message id; reload the page")
        return Sent(view_of(session, existing))
    _check_rate(session, user_id, settings)
    reply_to = _reply_target(session, room_id, reply_to_id)
    claimed = files.claim(session, user_id, room_id, file_ids)
    msg = Message(
        room_id=room_id,
        author_id=user_id,
        kind=MessageKind.USER.value,
        body=text,
        client_id=client_id,
        reply_to_id=reply_to,
        file_names="\n".join(row.name for row in claimed),  # searched with the text
    )
    try:
        with session.begin_nested():
            msg.seq = next_change(session, room_id)
            session.add(msg)
            session.flush()
    except sa.exc.IntegrityError:
        # A concurrent retry of the same send won the race: return its row.
        existing = _existing(session, user_id, client_id)
        if existing is None:  # pragma: no cover
            raise
        session.commit()
        return Sent(view_of(session, existing))
    attached = files.attach(session, claimed, msg.id)  # type: ignore[arg-type]
    named = mentions.resolve(session, room_id, user_id, text)
    mentions.record(session, msg.id, room_id, named)  # type: ignore[arg-type]
    view = view_of(session, msg, new=True, files=attached)
    # My own message is read by me.
    session.exec(
        sa.update(Membership)
        .where(col(Membership.room_id) == room_id, col(Membership.user_id) == user_id)
        .values(last_read_message_id=msg.id)
    )
    publish_on_commit(
        session,
        # ``user_id`` is the author: hubs skip it when counting unread messages.
        events.Event(
            type=events.MESSAGE_CREATED,
            room_id=room_id,
            user_id=user_id,
            data=view.as_row(),
            mentioned=tuple(sorted(named.user_ids)),
        ),
    )
    session.commit()
    return Sent(view, mentions.notice(named))


def _reply_target(session: Session, room_id: int, reply_to_id: object) -> int | None:
    """The id of the message a new one answers (None for none), or a refusal."""
    if not reply_to_id:
        return None
    if not isinstance(reply_to_id, int) or isinstance(reply_to_id, bool):
        raise ServiceError("That message cannot be replied to")
    original = session.get(Message, reply_to_id)
    if original is None or original.room_id != room_id:
        raise NotFound("That message cannot be replied to")
    if original.deleted_at is not None:
        raise ServiceError("That message was deleted")
    return original.id


def _page(session: Session, room_id: int, where, limit: int) -> list[MessageView]:
    """The newest ``limit`` messages matching ``where``, oldest first."""
    limit = max(1, min(int(limit), MAX_PAGE + 1))
    rows = session.exec(
        select(Message, User.username)
        .join(User, col(User.id) == Message.author_id, isouter=True)
        .where(Message.room_id == room_id, *where)
        .order_by(col(Message.id).desc())
        .limit(limit)
    ).all()
    return views_of(session, list(reversed(rows)))


def room_window(session: Session, room_id: int, limit: int) -> tuple[list[MessageView], bool]:
    """The newest ``limit`` messages of a room and whether anything is older.

    For a worker's live room feed (``blabber.realtime.feeds``), which is only
    ever shown to tabs whose membership was checked when they opened the room;
    so no requester here.
    """
    limit = max(1, min(int(limit), MAX_PAGE))
    rows = _page(session, room_id, [], limit + 1)
    return rows[-limit:], len(rows) > limit


def messages_before(
    session: Session, user_id: int, room_id: int, before_id: int, limit: int
) -> list[MessageView]:
    """Up to ``limit`` messages older than ``before_id``, oldest first; members only."""
    require_member(session, user_id, room_id)
    return _page(session, room_id, [col(Message.id) < int(before_id)], limit)


def message_context(
    session: Session, user_id: int, room_id: int, message_id: object, around: int
) -> tuple[list[MessageView], bool]:
    """A permalink's page: the message with up to ``around`` messages either side.

    Returns the rows oldest first and whether anything is older. Members
    only, and only a message of this room: any other id is "not found", so
    a crafted link learns nothing about messages elsewhere.
    """
    require_member(session, user_id, room_id)
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise NotFound(LINK_GONE)
    target = session.get(Message, message_id)
    if target is None or target.room_id != room_id:
        raise NotFound(LINK_GONE)
    around = max(1, min(int(around), MAX_PAGE // 2))
    before = _page(session, room_id, [col(Message.id) < message_id], around + 1)
    after = session.exec(
        select(Message, User.username)
        .join(User, col(User.id) == Message.author_id, isouter=True)
        .where(Message.room_id == room_id, col(Message.id) >= message_id)
        .order_by(col(Message.id))
        .limit(around + 1)
    ).all()
    rows = [*before[-around:], *views_of(session, list(after))]
    return rows, len(before) > around


def reply_preview(session: Session, user_id: int, message_id: object) -> MessageView:
    """The message a member starts replying to (the composer's ``Replying to <author>``)."""
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise NotFound("That message cannot be replied to")
    msg = session.get(Message, message_id)
    if msg is None:
        raise NotFound("That message cannot be replied to")
    require_member(session, user_id, msg.room_id)
    if msg.kind != MessageKind.USER.value:
        raise ServiceError("That message cannot be replied to")
    if msg.deleted_at is not None:
        raise ServiceError("That message was deleted")
    return view_of(session, msg)


def my_last_message_id(session: Session, user_id: int, room_id: int) -> int:
    """My newest message in a room that is still there (Up-arrow edits it); 0 for none."""
    require_member(session, user_id, room_id)
    found = session.exec(
        select(Message.id)
        .where(
            Message.room_id == room_id,
            Message.author_id == user_id,
            Message.kind == MessageKind.USER.value,
            col(Message.deleted_at).is_(None),
        )
        .order_by(col(Message.id).desc())
        .limit(1)
    ).first()
    return found or 0


def mark_read_many(session: Session, marks: dict[tuple[int, int], int]) -> None:
    """Move many read marks forward at once: ``{(user_id, room_id): message_id}``.

    A worker collects what its tabs have been shown and writes it here every
    few seconds in one transaction, instead of one transaction per tab per
    message. Marks only move forward; a mark for a room the user has left
    matches no membership and changes nothing.
    """
    if not marks:
        return
    table = Membership.__table__  # type: ignore[attr-defined]
    stmt = (
        sa.update(table)
        .where(
            table.c.user_id == sa.bindparam("u"),
            table.c.room_id == sa.bindparam("r"),
            table.c.last_read_message_id < sa.bindparam("m"),
        )
        .values(last_read_message_id=sa.bindparam("m"))
    )
    session.connection().execute(
        stmt, [{"u": u, "r": r, "m": m} for (u, r), m in sorted(marks.items())]
    )
    session.commit()
