"""Property tests: any input is either stored exactly or refused cleanly.

For usernames, passwords, room names and message bodies, every call either
succeeds and stores exactly what the rules say (trimmed input), or raises a
``ServiceError`` with a non-empty message and writes nothing. Any other
exception, or a partial write, fails the test. SQLite only, one fresh database
per test, kept well under the suite's time budget.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel, func, select

from blabber import db, security
from blabber.models import (
    AuthSession,
    Invite,
    JoinAttempt,
    LoginFailure,
    Membership,
    Mention,
    Message,
    Reaction,
    Room,
    RoomAlias,
    SignupAttempt,
    User,
)
from blabber.services import accounts, message_changes, messages, reactions, rooms
from blabber.services.errors import ServiceError
from tests.conftest import FAST

FUZZ = dataclasses.replace(FAST, message_burst=10**9, login_max_failures=10**9, join_max=10**9)
SETTINGS = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TRICKY = [
    "\x00",
    "\u202e",  # right-to-left override
    "\u202d",
    "\u200b",  # zero-width space
    "\u200d",
    "\ufeff",
    "\u3000",
    "\x1b[31m",
    "\r\n",
    "\t",
    "\x7f",
    "\x85",
    "\ud800",  # lone surrogate: only a crafted payload can carry one
    "\udfff",
    "é",
    "👋🏽",
    "'; DROP TABLE users; --",
    "<script>alert(1)</script>",
    " ",
]
ANY_CHAR = st.one_of(
    st.characters(exclude_categories=()), st.sampled_from([t for t in TRICKY if len(t) == 1])
)
ANY_TEXT = st.one_of(
    st.text(),
    st.text(ANY_CHAR, max_size=80),
    st.lists(st.sampled_from([*TRICKY, "a", "Z", "9", "_", "-", ".", "ab"]), max_size=30).map(
        "".join
    ),
)


def _long(base: st.SearchStrategy[str], lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.builds(lambda c, n, tail: c * n + tail, base, st.integers(lo, hi), ANY_TEXT)


USERNAMES = st.one_of(ANY_TEXT, st.from_regex(r"\s*[A-Za-z0-9_.\-]{1,40}\s*", fullmatch=True))
PASSWORDS = st.one_of(
    ANY_TEXT,
    st.text(min_size=8, max_size=80),
    _long(st.sampled_from(["a", "é", "€", "👋"]), 15, 80),
)
ROOM_NAMES = st.one_of(ANY_TEXT, st.from_regex(r"\s*[A-Za-z0-9 _\-\t]{1,45}\s*", fullmatch=True))
BODIES = st.one_of(
    ANY_TEXT,
    _long(st.sampled_from(["x", " ", "é", "\u200b", "\u202e", "👋"]), 3990, 4010),
    _long(ANY_CHAR, 1, 5000),
)


@pytest.fixture
def fresh_db(sqlite_template: Path, tmp_path: Path, broker) -> Iterator[Session]:
    path = tmp_path / "fuzz.db"
    shutil.copy(sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def counts(session: Session) -> dict[str, int]:
    session.rollback()
    return {
        model.__tablename__: session.exec(select(func.count()).select_from(model)).one()
        for model in (
            User,
            AuthSession,
            LoginFailure,
            SignupAttempt,
            JoinAttempt,
            Room,
            Membership,
            Message,
            Reaction,
            Mention,
            RoomAlias,
            Invite,
        )
    }


def refused_cleanly(session: Session, before: dict[str, int], err: ServiceError) -> None:
    assert str(err).strip(), "a refusal must say why"
    assert err.message == str(err)
    assert counts(session) == before, "a refusal must write nothing"


def grow(before: dict[str, int], **delta: int) -> dict[str, int]:
    return {k: v + delta.get(k, 0) for k, v in before.items()}


def test_usernames(fresh_db):
    session = fresh_db

    @SETTINGS
    @given(name=USERNAMES)
    def check(name: str) -> None:
        before = counts(session)
        try:
            signed = accounts.sign_up(session, name, "password1", settings=FUZZ)
        except ServiceError as err:
            refused_cleanly(session, before, err)
            return
        assert signed.username == name.strip()
        assert re.fullmatch(r"[A-Za-z0-9_.\-]{3,32}", signed.username)
        stored = session.get(User, signed.user_id)
        assert (stored.username, stored.username_key) == (name.strip(), name.strip().lower())
        assert counts(session) == grow(before, users=1, auth_sessions=1)

    check()


def test_passwords(fresh_db):
    session = fresh_db
    names = (f"user{i}" for i in itertools.count())

    @settings(SETTINGS, max_examples=50)
    @given(password=PASSWORDS)
    def check(password: str) -> None:
        name = next(names)
        before = counts(session)
        try:
            signed = accounts.sign_up(session, name, password, settings=FUZZ)
        except ServiceError as err:
            refused_cleanly(session, before, err)
            return
        assert 8 <= len(password) and len(password.encode("utf-8")) <= 72
        assert "\x00" not in password
        assert security.verify_password(password, session.get(User, signed.user_id).password_hash)
        assert accounts.log_in(session, name, password, settings=FUZZ).user_id == signed.user_id

    check()


def test_log_in_never_crashes(fresh_db):
    session = fresh_db
    accounts.sign_up(session, "alice", "password1", settings=FUZZ)

    @settings(SETTINGS, max_examples=50)
    @given(name=st.one_of(USERNAMES, st.just("alice")), password=PASSWORDS)
    def check(name: str, password: str) -> None:
        try:
            signed = accounts.log_in(session, name, password, settings=FUZZ)
        except ServiceError as err:
            assert str(err) == "Invalid username or password"
            return
        assert name.strip().lower() == "alice" and password == "password1"
        assert accounts.user_for_token(session, signed.token).username == "alice"

    check()


def test_room_names(fresh_db):
    session = fresh_db
    alice = accounts.sign_up(session, "alice", "password1", settings=FUZZ).user_id
    bob = accounts.sign_up(session, "bob", "password1", settings=FUZZ).user_id

    @SETTINGS
    @given(name=ROOM_NAMES)
    def check(name: str) -> None:
        before = counts(session)
        try:
            room = rooms.join_room(session, alice, name, settings=FUZZ)
        except ServiceError as err:
            refused_cleanly(session, before, err)
            with pytest.raises(ServiceError):  # NotFound, never a crash
                rooms.room_for_member(session, alice, name)
            return
        expected = re.sub(r"\s+", " ", name.strip())
        assert room.name.lower() == expected.lower()
        assert re.fullmatch(r"[A-Za-z0-9 _\-]{1,40}", room.name)
        after = counts(session)
        if after["rooms"] == before["rooms"] + 1:  # newly created: stored as typed
            assert room.name == expected
            assert after == grow(before, rooms=1, memberships=1, messages=1, join_attempts=1)
        else:
            assert after == before  # already a member: nothing written
        assert rooms.room_for_member(session, alice, name).id == room.id
        with pytest.raises(ServiceError):
            rooms.room_for_member(session, bob, name)

    check()


def test_message_bodies(fresh_db):
    session = fresh_db
    alice = accounts.sign_up(session, "alice", "password1", settings=FUZZ).user_id
    room_id = rooms.join_room(session, alice, "general").id
    client_ids = (f"c{i}" for i in itertools.count())

    @SETTINGS
    @given(body=BODIES)
    def check(body: str) -> None:
        before = counts(session)
        try:
            view = messages.send_message(
                session, alice, room_id, body, next(client_ids), settings=FUZZ
            )
        except ServiceError as err:
            refused_cleanly(session, before, err)
            return
        assert counts(session) == grow(before, messages=1)
        stored = session.get(Message, view.id, populate_existing=True)
        assert stored.body == body.strip() == view.body
        assert 1 <= len(stored.body) <= 4000
        assert "\x00" not in stored.body
        [latest] = messages.room_window(session, room_id, 1)[0]
        assert latest.body == body.strip()

    check()


def test_models_cover_every_table():
    """``counts`` must see every table, or a partial write could hide in one it skips."""
    counted = {
        "users",
        "auth_sessions",
        "login_failures",
        "signup_attempts",
        "join_attempts",
        "rooms",
        "memberships",
        "messages",
        "reactions",
        "mentions",
        "room_aliases",
        "invites",
    }
    assert {t.name for t in SQLModel.metadata.sorted_tables} - counted == {
        "room_bans",
        "presence_connections",
        "attachments",  # uploads come over HTTP, not through these services (tests/test_files.py)
    }


def test_edits_and_reactions(fresh_db):
    """An edit stores the trimmed text or refuses; a reaction adds or drops a row, or refuses."""
    session = fresh_db
    alice = accounts.sign_up(session, "alice", "password1", settings=FUZZ).user_id
    room_id = rooms.join_room(session, alice, "general").id
    target = messages.send_message(session, alice, room_id, "original", "c0", settings=FUZZ)

    @SETTINGS
    @given(text=BODIES)
    def check(text: str) -> None:
        before = counts(session)
        try:
            view = message_changes.edit_message(session, alice, target.id, text, settings=FUZZ)
        except ServiceError as err:
            refused_cleanly(session, before, err)
        else:
            assert counts(session) == before  # an edit adds no row
            assert session.get(Message, target.id, populate_existing=True).body == view.body
            assert view.body == text.strip()
        before = counts(session)
        try:
            reactions.toggle_reaction(session, alice, target.id, text)
        except ServiceError as err:
            refused_cleanly(session, before, err)
        else:
            assert abs(counts(session)["reactions"] - before["reactions"]) == 1

    check()
