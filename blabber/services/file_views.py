"""Building :class:`FileView` rows for messages: one query per page of messages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlmodel import Session, col, select

from blabber import routes
from blabber.models import Attachment
from blabber.services.file_types import size_label
from blabber.services.views import FileView


def view_of_file(row: Attachment) -> FileView:
    """The view of one attachment row."""
    file_id = row.id or 0
    image = bool(row.thumb_key)
    return FileView(
        id=file_id,
        name=row.name,
        size=row.size,
        size_label=size_label(row.size),
        image=image,
        width=row.width,
        height=row.height,
        url=routes.file_path(file_id, row.name),
        thumb_url=routes.thumb_path(file_id) if image else "",
        **_shown_size(row.width, row.height) if image else {},
    )


SHOWN_BOX = (320, 240)


def _shown_size(width: int, height: int) -> dict[str, int]:
    """The size a thumbnail takes in the list: the picture fitted into :data:`SHOWN_BOX`."""
    if width <= 0 or height <= 0:
        return {"shown_width": SHOWN_BOX[0], "shown_height": SHOWN_BOX[1]}
    scale = min(1.0, SHOWN_BOX[0] / width, SHOWN_BOX[1] / height)
    return {
        "shown_width": max(1, round(width * scale)),
        "shown_height": max(1, round(height * scale)),
    }


def files_of(session: Session, message_ids: Iterable[int]) -> dict[int, list[FileView]]:
    """Per message id, its files in order (one query for a page of messages)."""
    ids = sorted(set(message_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(Attachment)
        .where(col(Attachment.message_id).in_(ids))
        .order_by(col(Attachment.message_id), col(Attachment.position))
    ).all()
    grouped: dict[int, list[FileView]] = defaultdict(list)
    for row in rows:
        grouped[row.message_id or 0].append(view_of_file(row))
    return dict(grouped)
