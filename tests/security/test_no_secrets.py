"""Secrets never reach the browser: every websocket message of a realistic session, searched.

Two users sign up and log in, join a room, chat, a third user keeps a room
of their own, and the admin kicks someone. Every ``event`` message each tab
received (deltas and frontend events, exactly as decoded by the socket
client) is then searched for: any bcrypt hash, any session token (its own
too: the token is an HttpOnly cookie, never in a message), any stored token
hash, and the internal id of a room that tab cannot see.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from tests.security.conftest import tab, uniq
from tests.security.test_authorization_matrix import ids_from_db, room_ids_in
from tests.support.reflex_client import ADMIN, CHAT, COMPOSER


async def test_no_secret_in_any_message_received(backend, backend_db, clients):
    alice, bob, dave = (uniq("alice"), uniq("bob"), uniq("dave"))
    room, hidden = uniq("team"), uniq("hidden")
    # alice signs up in one tab, then logs in again in a second tab.
    a1, a2, b, d = [await tab(backend, clients) for _ in range(4)]
    await a1.sign_up(alice)
    await a2.log_in(alice)
    await b.sign_up(bob)
    await d.sign_up(dave)
    await d.join(hidden)  # a room alice and bob never see
    await d.call(COMPOSER, "send", form_data={"body": "dave alone", "client_id": uniq("d")})
    await a1.join(room)
    await a2.navigate(f"/rooms/{room}")
    await b.join(room)
    await a1.call(COMPOSER, "send", form_data={"body": "hello bob", "client_id": uniq("a")})
    await b.call(COMPOSER, "typing")
    await b.call(COMPOSER, "send", form_data={"body": "hi alice", "client_id": uniq("b")})
    await a2.wait_for(lambda: "hi alice" in a2.bodies())
    (bob_id,) = ids_from_db(backend_db, "users", "username", [bob])
    await a1.call(ADMIN, "kick", user_id=bob_id)
    await b.wait_for(lambda: "removed" in (b.var(CHAT, "notice") or ""))
    for client in (a1, a2, b, d):
        await client.settle(0.5)

    with backend_db.connect() as conn:
        hashes = list(conn.execute(sa.text("SELECT password_hash FROM users")).scalars())
        token_hashes = list(conn.execute(sa.text("SELECT token_hash FROM auth_sessions")).scalars())
        room_ids = {n: i for n, i in conn.execute(sa.text("SELECT name, id FROM rooms"))}
    assert len(hashes) == 3 and all(h.startswith("$2b$") for h in hashes)
    tokens = {c: c.session_token for c in (a1, a2, b, d)}
    assert all(tokens.values()) and len(set(tokens.values())) == 4  # one session per log-in

    for client in (a1, a2, b, d):
        blob = json.dumps(client.received)
        assert client.received, "the recording must not be empty"
        assert "$2b$" not in blob, "a bcrypt hash reached the browser"
        assert not [h for h in token_hashes if h in blob], "a stored token hash reached the browser"
        assert not [t for t in tokens.values() if t in blob], "a session token reached a tab"
    for client in (a1, a2, b):
        assert room_ids[hidden] not in room_ids_in(client.received)
        assert hidden not in json.dumps(client.received)
    assert room_ids[room] not in room_ids_in(d.received)
