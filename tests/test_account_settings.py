"""My account: change password, log out everywhere, delete account (services.account_settings).

On SQLite and PostgreSQL: each needs what proves it is me, ends the right
sessions (and says so live), and deleting an account leaves everyone else's
history as it was, with my messages shown as from ``Deleted user``.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlmodel import select

from blabber.models import Membership, Message
from blabber.realtime import events
from blabber.services import account_settings, accounts, conversations, messages, rooms
from blabber.services.accounts import InvalidCredentials
from blabber.services.errors import ServiceError
from tests.conftest import FAST

PASSWORD = "hunter2hunter2"
ROOMY = dataclasses.replace(FAST, message_burst=1000)


def revoked(broker) -> set[str]:
    return {e.data["token_hash"] for e in broker.of_type(events.SESSION_REVOKED)}


@pytest.fixture
def alice(session):
    first = accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    second = accounts.log_in(session, "alice", PASSWORD, settings=FAST)
    return first, second


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    session, broker, alice
):
    here, elsewhere = alice
    keep = accounts.user_for_token(session, here.token).token_hash  # type: ignore[union-attr]
    for wrong in ("not-it-at-all", "", None, ["x"]):
        with pytest.raises(ServiceError, match="not your current password"):
            account_settings.change_password(
                session, here.user_id, wrong, "new password 1", keep, settings=FAST
            )
    with pytest.raises(ServiceError, match="at least 8"):
        account_settings.change_password(
            session, here.user_id, PASSWORD, "short", keep, settings=FAST
        )
    assert accounts.user_for_token(session, elsewhere.token) is not None  # nothing half-done
    broker.published.clear()
    ended = account_settings.change_password(
        session, here.user_id, PASSWORD, "new password 1", keep, settings=FAST
    )
    assert ended == 1
    assert accounts.user_for_token(session, here.token) is not None  # this one stays
    assert accounts.user_for_token(session, elsewhere.token) is None
    assert len(revoked(broker)) == 1 and keep not in revoked(broker)
    with pytest.raises(InvalidCredentials):
        accounts.log_in(session, "alice", PASSWORD, settings=FAST)
    assert (
        accounts.log_in(session, "alice", "new password 1", settings=FAST).user_id == here.user_id
    )


def test_log_out_everywhere_ends_every_session(session, broker, alice):
    here, elsewhere = alice
    broker.published.clear()
    assert account_settings.log_out_everywhere(session, here.user_id) == 2
    assert accounts.user_for_token(session, here.token) is None
    assert accounts.user_for_token(session, elsewhere.token) is None
    assert len(revoked(broker)) == 2


def test_deleting_an_account_keeps_everyone_elses_history(session, broker, alice):
    here, _ = alice
    bob = accounts.sign_up(session, "bob", PASSWORD, settings=FAST).user_id
    room = rooms.join_room(session, here.user_id, "general").id  # alice: admin
    rooms.join_room(session, bob, "general")
    messages.send_message(
        session, here.user_id, room, "from alice", uuid.uuid4().hex, settings=ROOMY
    )
    messages.send_message(session, bob, room, "from bob", uuid.uuid4().hex, settings=ROOMY)
    dm = conversations.open_direct(session, bob, ["alice"])
    with pytest.raises(ServiceError, match="not your current password"):
        account_settings.delete_account(session, here.user_id, "wrong password", settings=FAST)
    assert rooms.is_member(session, here.user_id, room)  # refused: nothing changed
    broker.published.clear()

    account_settings.delete_account(session, here.user_id, PASSWORD, settings=FAST)

    assert accounts.user_for_token(session, here.token) is None and len(revoked(broker)) == 2
    history = messages.messages_before(session, bob, room, 10**9, 20)
    by_author = [(m.author, m.body) for m in history if m.kind == "user"]
    assert by_author == [("Deleted user", "from alice"), ("bob", "from bob")]
    assert "alice deleted their account" in [m.body for m in history]
    assert not rooms.is_member(session, here.user_id, room)
    admin = session.exec(
        select(Membership.role).where(Membership.room_id == room, Membership.user_id == bob)
    ).one()
    assert admin == "admin"  # the room kept an admin
    [direct] = conversations.list_my_directs(session, bob)
    assert (direct.id, direct.title) == (dm.id, "Deleted user")  # the conversation stays
    assert session.exec(select(Message).where(Message.body == "from alice")).one()
    with pytest.raises(InvalidCredentials):
        accounts.log_in(session, "alice", PASSWORD, settings=FAST)
    with pytest.raises(ServiceError, match="taken"):  # the name is never freed
        accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    from blabber.services import people

    assert (
        people.find_people(session, bob, "alice") == people.find_people(session, bob, "del") == []
    )
    with pytest.raises(ServiceError, match="No such user: alice"):
        conversations.open_direct(session, bob, ["alice"])
    with pytest.raises(Exception, match="Log in again"):
        account_settings.log_out_everywhere(session, here.user_id)
