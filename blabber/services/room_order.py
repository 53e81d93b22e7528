"""The per-room order of changes: one number per new message, edit, deletion or reaction.

Every view of a message carries the number of its version (``seq``), so
a viewer (a room feed, a tab's paged history) keeps the newer of two
versions and never shows an older one after a newer one, whatever order
events arrive in. Taking the number updates the room's row, which holds
that row until commit on PostgreSQL (SQLite serialises writers anyway):
so numbers commit in the order they were taken. Changes of one room queue
behind each other for the length of a transaction (a few milliseconds);
rooms do not wait for each other.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col

from blabber.models import Room


def next_change(session: Session, room_id: int) -> int:
    """Take the room's next change number (in the caller's transaction)."""
    stmt = (
        sa.update(Room)
        .where(col(Room.id) == room_id)
        .values(change_seq=col(Room.change_seq) + 1)
        .returning(col(Room.change_seq))
    )
    return int(session.exec(stmt).scalar_one())  # type: ignore[call-overload]
