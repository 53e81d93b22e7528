"""Editing and deleting messages.

Rights are checked in the same transaction as the change: the author edits
their own messages while still a member; the author or the room's admin
deletes. Each change takes the room's next change number (``room_order``)
and publishes the message's whole new view after commit
(``events.MESSAGE_CHANGED``), so every viewer replaces it in place and
ignores a version older than the one it shows.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from blabber.models import Membership, Message, MessageKind, Reaction, Role, utcnow
from blabber.realtime import events
from blabber.services import files
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from blabber.services.message_views import excerpt, view_of
from blabber.services.messages import validate_body
from blabber.services.outbox import publish_on_commit
from blabber.services.room_order import next_change
from blabber.services.rooms import require_member
from blabber.services.views import MessageView
from blabber.settings import Settings, get_settings

GONE = "That message no longer exists"
MAX_REQUOTED = 20  # replies re-sent live when their original changes


def edit_message(
    session: Session,
    user_id: int,
    message_id: object,
    body: str,
    *,
    settings: Settings | None = None,
) -> MessageView:
    """Replace the text of my own message.

    An empty text is refused (delete instead) unless the message carries
    files: those stay, and the message becomes files alone.
    """
    msg, _ = message_in_my_room(session, user_id, message_id)
    if msg.author_id != user_id or msg.kind != MessageKind.USER.value:
        raise NotAllowed("You can only edit your own messages")
    names = msg.file_names.splitlines()
    if isinstance(body, str) and not body.strip() and not names:
        raise ServiceError("A message cannot be empty; delete it instead")
    text = validate_body(body, settings or get_settings(), may_be_empty=bool(names))
    if text == msg.body:
        return view_of(session, msg)  # nothing changed: no new version
    first_line = excerpt(msg.body, names)
    msg.body, msg.edited_at = text, utcnow()
    return publish_change(session, msg, quoted=excerpt(text, names) != first_line)


def delete_message(session: Session, user_id: int, message_id: object) -> MessageView:
    """Delete a message for everyone: mine, or any as the room's admin. Its text and files go."""
    msg, membership = message_in_my_room(session, user_id, message_id)
    is_admin = membership.role == Role.ADMIN.value
    if msg.kind != MessageKind.USER.value or not (msg.author_id == user_id or is_admin):
        raise NotAllowed("You can only delete your own messages")
    msg.body, msg.file_names, msg.deleted_at = "", "", utcnow()
    session.exec(sa.delete(Reaction).where(col(Reaction.message_id) == msg.id))
    files.forget_message_files(session, msg.id)  # type: ignore[arg-type]
    return publish_change(session, msg, quoted=True)


def message_in_my_room(
    session: Session, user_id: int, message_id: object
) -> tuple[Message, Membership]:
    """A live (not deleted) message of a room I am in, and my membership there; else a refusal.

    The row is locked until commit (PostgreSQL), so two changes of one
    message do not interleave. A message of a room I am not in is "no
    longer exists", like a deleted one: the answer tells nothing about
    rooms the caller cannot read.
    """
    if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id < 1:
        raise NotFound(GONE)
    query = select(Message).where(col(Message.id) == message_id).with_for_update()
    msg = session.exec(query).first()
    if msg is None or msg.deleted_at is not None:
        raise NotFound(GONE)
    try:
        return msg, require_member(session, user_id, msg.room_id)
    except NotAllowed:
        raise NotFound(GONE) from None


def publish_change(session: Session, msg: Message, *, quoted: bool = False) -> MessageView:
    """Give ``msg`` the room's next change number, commit, and publish its new view after commit.

    ``quoted``: the change alters what replies quote of it (its first line,
    or that it is gone), so its newest :data:`MAX_REQUOTED` replies get a
    new version too; older ones show the new quote when next loaded.
    """
    view = _new_version(session, msg)
    if quoted:
        replies = session.exec(
            select(Message)
            .where(col(Message.reply_to_id) == msg.id, col(Message.deleted_at).is_(None))
            .order_by(col(Message.id).desc())
            .limit(MAX_REQUOTED)
        ).all()
        for reply in sorted(replies, key=lambda m: m.id or 0):
            _new_version(session, reply)
    session.commit()
    return view


def _new_version(session: Session, msg: Message) -> MessageView:
    msg.seq = next_change(session, msg.room_id)
    session.add(msg)
    session.flush()
    view = view_of(session, msg)
    publish_on_commit(
        session,
        events.Event(
            type=events.MESSAGE_CHANGED,
            room_id=msg.room_id,
            user_id=msg.author_id,
            data=view.as_row(),
        ),
    )
    return view
