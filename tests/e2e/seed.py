"""Long room histories written straight into the browser tests' database."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Session

from blabber.db import make_engine
from blabber.models import Message, Room
from blabber.services import accounts, rooms
from tests.conftest import FAST
from tests.e2e import ui


def history(database_url: str, owner: str, room: str, count: int) -> list[int]:
    """``owner`` (password ui.PASSWORD) alone in ``room`` with ``count`` old messages.

    Written straight into the database before any server process opens the
    room: typing 500 messages through the page would take minutes and trip
    the send limit. Returns the message ids, oldest first.
    """
    engine = make_engine(database_url)
    with Session(engine) as session:
        user_id = accounts.sign_up(session, owner, ui.PASSWORD, settings=FAST).user_id
        room_id = rooms.join_room(session, user_id, room).id
        start = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
        rows = [
            Message(
                room_id=room_id,
                author_id=user_id,
                body=f"history {i}",
                created_at=start + dt.timedelta(seconds=30 * i),
                seq=1000 + i,
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        session.exec(sa.update(Room).where(Room.id == room_id).values(change_seq=2000 + count))
        session.commit()
        ids = [m.id for m in rows]
    engine.dispose()
    return ids  # type: ignore[return-value]
