"""The demo-data command gives a newcomer users, rooms and messages, idempotently."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from blabber import seed
from blabber.services import accounts, messages, room_members, rooms
from tests.conftest import SQLITE_ONLY


def _counts(session) -> tuple[int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        session.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
        for t in ("users", "rooms", "memberships", "messages")
    )


@SQLITE_ONLY
def test_seed_creates_demo_users_rooms_and_messages_once(session, broker):
    seed.seed(session, 3)
    first = _counts(session)
    seed.seed(session, 3)
    assert _counts(session) == first
    assert first[:3] == (3, len(seed.DEMO_ROOMS), 3 * len(seed.DEMO_ROOMS))

    signed = accounts.log_in(session, "user2", seed.DEMO_PASSWORD)
    my_rooms = rooms.list_my_rooms(session, signed.user_id)
    assert sorted(r.name for r in my_rooms) == sorted(seed.DEMO_ROOMS)
    general = next(r for r in my_rooms if r.name == "general")
    bodies = [m.body for m in messages.room_window(session, general.id, 50)[0]]
    for line in seed.DEMO_LINES:
        assert line in bodies
    members, _ = room_members.members_panel(session, general.id, frozenset(), limit=1000)
    assert [m.username for m in members if m.role == "admin"] == ["user1"]


def test_seed_cli_refuses_silly_counts(capsys):
    with pytest.raises(SystemExit):
        seed.main(["--users", "0"])
    assert "--users must be between 1 and 10000" in capsys.readouterr().err
