"""Crafted events: every handler, called by someone who must not, changes nothing.

These tests speak Reflex's websocket protocol directly (tests/support/reflex_client.py),
so they can send what no button sends: handlers while logged out, kicks by
non-admins, sends after being kicked, arbitrary ids. After each attempt the
database is compared with a snapshot and the deltas the attacker received are
searched for anything they must not see.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from tests.support.appserver import AppServer
from tests.support.reflex_client import AUTH, CHAT, ReflexClient

# Columns that say who may do what. A membership's read mark is left out: it
# moves on its own (deliveries persist it a few seconds later) and grants nothing.
TABLES = {
    "users": "*",
    "rooms": "*",
    "memberships": "id, room_id, user_id, role, joined_at",
    "messages": "*",
    "room_bans": "*",
    "auth_sessions": "*",
}
SECRET_TEXT = "the launch code is 0000"


def snapshot(engine: sa.Engine) -> dict[str, list]:
    """Every row of every table that matters, for before/after comparison."""
    with engine.connect() as conn:
        return {
            t: sorted(map(tuple, conn.execute(sa.text(f"SELECT {cols} FROM {t}")).all()), key=repr)
            for t, cols in TABLES.items()
        }


def uniq(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


@pytest.fixture
async def clients(backend: AppServer) -> AsyncIterator[list[ReflexClient]]:
    made: list[ReflexClient] = []
    yield made
    for client in made:
        await client.close()


async def new_client(backend: AppServer, made: list[ReflexClient]) -> ReflexClient:
    client = ReflexClient(backend.url)
    await client.connect()
    made.append(client)
    return client


@pytest.fixture
async def secret_room(backend: AppServer, clients: list[ReflexClient]) -> dict:
    """alice (admin) and bob (member) in a room holding a secret message."""
    alice = await new_client(backend, clients)
    bob = await new_client(backend, clients)
    names = {"alice": uniq("alice"), "bob": uniq("bob"), "room": uniq("secret")}
    await alice.sign_up(names["alice"])
    await bob.sign_up(names["bob"])
    await alice.join(names["room"])
    await bob.join(names["room"])
    await alice.call(CHAT, "send", form_data={"body": SECRET_TEXT, "client_id": uniq("c")})
    await bob.wait_for(lambda: SECRET_TEXT in bob.bodies())
    members = {m["username"]: m["user_id"] for m in alice.var(CHAT, "members")}
    return {**names, "alice_client": alice, "bob_client": bob, "ids": members}


def leaked(client: ReflexClient, *needles: str) -> list[str]:
    """Needles found anywhere in what the server sent this client."""
    blob = json.dumps(client.deltas) + json.dumps(client.frontend_events)
    return [n for n in needles if n in blob]


def every_chat_call(room: str, target_id: int) -> list[tuple[str, dict]]:
    """Each ChatState handler with hostile arguments."""
    return [
        ("send", {"form_data": {"body": "intruder", "client_id": "intruder1"}}),
        ("join_room", {"form_data": {"room_name": room}}),
        ("kick", {"user_id": target_id}),
        ("unban", {"user_id": target_id}),
        ("leave_room", {}),
        ("load_older", {}),
        ("typing", {}),
        ("dismiss_notice", {}),
    ]


async def test_logged_out_client_can_do_nothing(backend, backend_db, clients, secret_room):
    before = snapshot(backend_db)
    anon = await new_client(backend, clients)
    await anon.navigate(f"/rooms/{secret_room['room']}")
    for handler, payload in every_chat_call(
        secret_room["room"], secret_room["ids"][secret_room["bob"]]
    ):
        await anon.call(CHAT, handler, **payload)
    await anon.settle()
    assert snapshot(backend_db) == before
    assert leaked(anon, SECRET_TEXT, secret_room["bob"], secret_room["alice"]) == []
    assert anon.var(AUTH, "username") in (None, "")


async def test_non_member_sees_nothing_and_changes_nothing(
    backend, backend_db, clients, secret_room
):
    eve = await new_client(backend, clients)
    await eve.sign_up(uniq("eve"))
    before = snapshot(backend_db)
    await eve.navigate(f"/rooms/{secret_room['room']}")
    await eve.settle()
    assert eve.messages() == []
    assert "not a member" in (eve.var(CHAT, "notice") or "")
    for handler, payload in every_chat_call("", secret_room["ids"][secret_room["bob"]]):
        await eve.call(CHAT, handler, **payload)
    await eve.settle()
    assert snapshot(backend_db) == before
    assert leaked(eve, SECRET_TEXT, secret_room["bob"]) == []


async def test_member_cannot_kick_or_unban(backend, backend_db, clients, secret_room):
    bob = secret_room["bob_client"]
    before = snapshot(backend_db)
    await bob.call(CHAT, "kick", user_id=secret_room["ids"][secret_room["alice"]])
    await bob.call(CHAT, "unban", user_id=secret_room["ids"][secret_room["alice"]])
    await bob.settle()
    assert snapshot(backend_db) == before
    assert "admin" in (bob.var(CHAT, "composer_error") or "")


async def test_kicked_member_cannot_send_or_read(backend, backend_db, clients, secret_room):
    alice, bob = secret_room["alice_client"], secret_room["bob_client"]
    await alice.call(CHAT, "kick", user_id=secret_room["ids"][secret_room["bob"]])
    await bob.wait_for(lambda: "removed" in (bob.var(CHAT, "notice") or ""))
    before = snapshot(backend_db)
    await bob.call(CHAT, "send", form_data={"body": "still here?", "client_id": uniq("k")})
    await bob.call(CHAT, "join_room", form_data={"room_name": secret_room["room"]})
    await bob.navigate(f"/rooms/{secret_room['room']}")
    await bob.settle()
    assert snapshot(backend_db) == before
    assert bob.messages() == []
    deltas_after_kick = len(bob.deltas)
    await alice.call(CHAT, "send", form_data={"body": "after the kick", "client_id": uniq("a")})
    await alice.wait_for(lambda: "after the kick" in alice.bodies())
    await bob.settle()
    assert "after the kick" not in json.dumps(bob.deltas[deltas_after_kick:])


async def test_no_secrets_in_any_delta(backend, backend_db, clients, secret_room):
    alice, bob = secret_room["alice_client"], secret_room["bob_client"]
    with backend_db.connect() as conn:
        hashes = [r[0] for r in conn.execute(sa.text("SELECT password_hash FROM users")).all()]
    alice_token = alice.var(AUTH, "auth_token")
    assert alice_token, "alice's own tab must hold her session token"
    assert leaked(bob, alice_token, *hashes) == []
    assert leaked(alice, *hashes) == []
