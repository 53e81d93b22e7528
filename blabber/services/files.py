"""Files in messages: recording uploads, attaching them to a send, who may read them, deleting them.

An upload (endpoints.files) is stored first and recorded here with no
message; the send that carries it attaches it (:func:`attach`, in the
send's transaction). Who may read a file is decided here on every request
(:func:`readable_file`): the current members of its room once it is
attached to a message that is not deleted, and its uploader before that.
Anyone else is told it does not exist, whether or not it does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from blabber.models import Attachment, Membership, Message, utcnow
from blabber.services.errors import NotFound, ServiceError
from blabber.services.file_store import delete_on_commit
from blabber.services.file_views import view_of_file
from blabber.services.rooms import require_member
from blabber.services.views import FileView

MAX_FILES = 10  # per message
UPLOADS_PER_MINUTE = 60  # per person: a burst of screenshots, not a flood
UNSENT_FOR = dt.timedelta(hours=24)  # an upload never sent is deleted after this
GONE = "No such file"
STALE = "A file of this message is gone; attach it again"


def check_upload(session: Session, user_id: int, room_id: object) -> int:
    """The room an upload goes to, if I may upload there now; else a refusal. Before any bytes."""
    if not isinstance(room_id, int) or isinstance(room_id, bool) or room_id < 1:
        raise NotFound("No such room")
    require_member(session, user_id, room_id)
    since = utcnow() - dt.timedelta(minutes=1)
    recent = session.exec(
        select(func.count())
        .select_from(Attachment)
        .where(Attachment.uploader_id == user_id, col(Attachment.created_at) > since)
    ).one()
    if recent >= UPLOADS_PER_MINUTE:
        raise ServiceError("You are uploading files too fast; wait a minute")
    return room_id


@dataclasses.dataclass(frozen=True)
class StoredFile:
    """An upload whose bytes (and thumbnail, for a picture) are in the store already."""

    name: str  # shown name, sanitised (file_types.shown_name)
    content_type: str  # sniffed
    size: int
    storage_key: str
    thumb_key: str | None = None
    width: int = 0
    height: int = 0


def record_upload(session: Session, user_id: int, room_id: int, stored: StoredFile) -> FileView:
    """Record a stored upload (membership checked again, in this transaction).

    Also forgets my uploads of over :data:`UNSENT_FOR` ago that were never
    sent (rows now, bytes after commit), so abandoned drafts do not pile up.
    """
    require_member(session, user_id, room_id)
    stale = session.exec(
        select(Attachment).where(
            Attachment.uploader_id == user_id,
            col(Attachment.message_id).is_(None),
            col(Attachment.created_at) < utcnow() - UNSENT_FOR,
        )
    ).all()
    _forget(session, stale)
    row = Attachment(room_id=room_id, uploader_id=user_id, **dataclasses.asdict(stored))
    session.add(row)
    session.commit()
    return view_of_file(row)


def parse_ids(raw: object) -> list[int]:
    """The attachment ids a send names (``"3,4"``, from the composer); a refusal if garbled."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, str) or len(raw) > 400:
        raise ServiceError(STALE)
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not all(part.isascii() and part.isdigit() and len(part) <= 18 for part in parts):
        raise ServiceError(STALE)
    ids = list(dict.fromkeys(int(part) for part in parts))
    if len(ids) > MAX_FILES:
        raise ServiceError(f"You can attach up to {MAX_FILES} files to one message")
    return ids


def claim(session: Session, user_id: int, room_id: int, ids: list[int]) -> list[Attachment]:
    """My unsent uploads to this room that a send names, in its order, locked; else a refusal.

    Every id must be an upload of mine, to this room, not yet sent: else the
    whole send is refused, never sent without them. Called before the
    message is inserted: on SQLite a savepoint opened first in a transaction
    commits when released, so nothing may fail after the insert.
    """
    if not ids:
        return []
    rows = session.exec(
        select(Attachment)
        .where(
            col(Attachment.id).in_(ids),
            Attachment.uploader_id == user_id,
            Attachment.room_id == room_id,
            col(Attachment.message_id).is_(None),
        )
        .with_for_update()
    ).all()
    by_id = {row.id: row for row in rows}
    if len(by_id) != len(ids):
        raise ServiceError(STALE)
    return [by_id[file_id] for file_id in ids]


def attach(session: Session, claimed: list[Attachment], message_id: int) -> list[FileView]:
    """Put the claimed uploads under the new message, in order."""
    for position, row in enumerate(claimed):
        row.message_id, row.position = message_id, position
        session.add(row)
    if claimed:
        session.flush()
    return [view_of_file(row) for row in claimed]


def readable_file(session: Session, user_id: int, file_id: object) -> Attachment:
    """The file, if ``user_id`` may read it now; :class:`NotFound` in every other case.

    A member of its room, for a file of a message that is not deleted; its
    uploader, for a file not sent yet. Checked on every download, so
    leaving or being removed from the room ends access at once.
    """
    if not isinstance(file_id, int) or isinstance(file_id, bool) or file_id < 1:
        raise NotFound(GONE)
    row = session.exec(
        select(Attachment, Message.deleted_at, Membership.id)
        .join(Message, col(Message.id) == Attachment.message_id, isouter=True)
        .join(
            Membership,
            sa.and_(
                col(Membership.room_id) == Attachment.room_id, col(Membership.user_id) == user_id
            ),
            isouter=True,
        )
        .where(Attachment.id == file_id)
    ).first()
    if row is None:
        raise NotFound(GONE)
    attachment, deleted_at, membership_id = row
    if attachment.message_id is None:
        if attachment.uploader_id != user_id or membership_id is None:
            raise NotFound(GONE)
    elif membership_id is None or deleted_at is not None:
        raise NotFound(GONE)
    return attachment


def _forget(session: Session, rows: Iterable[Attachment]) -> None:
    rows = list(rows)
    for row in rows:
        session.delete(row)
    delete_on_commit(session, [key for row in rows for key in (row.storage_key, row.thumb_key)])


def forget_message_files(session: Session, message_id: int) -> None:
    """Delete a message's files: rows in this transaction, bytes after it commits."""
    _forget(session, session.exec(select(Attachment).where(Attachment.message_id == message_id)))


def forget_room_files(session: Session, room_id: int) -> None:
    """Delete every file of a room (sent or not): before its messages go."""
    _forget(session, session.exec(select(Attachment).where(Attachment.room_id == room_id)))
    session.flush()
