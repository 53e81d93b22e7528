"""Sign up, log in, throttling, log out and sessions (blabber.services.accounts)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import bcrypt
import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from blabber.models import AuthSession, LoginFailure, SignupAttempt, User, utcnow
from blabber.realtime import events
from blabber.services import accounts
from blabber.services.errors import ServiceError
from tests.conftest import FAST, SQLITE_ONLY

PASSWORD = "hunter2hunter2"
USERNAME_RULE = "Username must be 3–32 characters: letters, digits, _ . or -"


def _count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_sign_up_creates_user_and_logged_in_session(session):
    signed = accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    assert signed.username == "alice"
    me = accounts.user_for_token(session, signed.token)
    assert me is not None
    assert (me.user_id, me.username) == (signed.user_id, "alice")
    user = session.get(User, signed.user_id)
    assert user.password_hash.startswith("$2b$04$")
    assert PASSWORD not in user.password_hash


@SQLITE_ONLY
def test_sign_up_keeps_case_and_trims(session):
    signed = accounts.sign_up(session, "  Alice.B-c_9 ", PASSWORD, settings=FAST)
    assert signed.username == "Alice.B-c_9"
    assert session.get(User, signed.user_id).username_key == "alice.b-c_9"


BAD_NAMES = ["ab", "a" * 33, "", "   ", "al ice", "alice!", "émile", "al\x00ice", "ali\nce", "a/b"]


@SQLITE_ONLY
def test_sign_up_refuses_bad_usernames(session):
    for name in BAD_NAMES:
        with pytest.raises(ServiceError) as err:
            accounts.sign_up(session, name, PASSWORD, settings=FAST)
        assert str(err.value) == USERNAME_RULE
    assert _count(session, User) == 0


@SQLITE_ONLY
def test_sign_up_accepts_username_edges(session):
    for name in ["abc", "a" * 32, "A.b", "x_-.9"]:
        assert accounts.sign_up(session, name, PASSWORD, settings=FAST).username == name


@SQLITE_ONLY
def test_password_must_have_8_characters(session):
    with pytest.raises(ServiceError, match=r"^Password must be at least 8 characters$"):
        accounts.sign_up(session, "alice", "1234567", settings=FAST)
    accounts.sign_up(session, "alice", "12345678", settings=FAST)


@SQLITE_ONLY
def test_password_over_72_bytes_is_refused_with_clear_message(session):
    with pytest.raises(ServiceError) as err:
        accounts.sign_up(session, "alice", "é" * 37, settings=FAST)  # 74 bytes, 37 characters
    assert str(err.value) == "Password must be at most 72 bytes (about 72 letters)"
    assert _count(session, User) == 0
    accounts.sign_up(session, "alice", "é" * 36, settings=FAST)  # exactly 72 bytes


@SQLITE_ONLY
def test_password_with_nul_is_refused(session):
    with pytest.raises(ServiceError, match=r"^Password cannot contain NUL characters$"):
        accounts.sign_up(session, "alice", "abc\x00defgh", settings=FAST)
    assert _count(session, User) == 0


@SQLITE_ONLY
def test_password_with_lone_surrogate_is_refused(session):
    with pytest.raises(ServiceError):
        accounts.sign_up(session, "alice", "abcdefg\ud800", settings=FAST)
    assert _count(session, User) == 0


def test_duplicate_username_is_taken_regardless_of_case(session):
    accounts.sign_up(session, "Alice", PASSWORD, settings=FAST)
    with pytest.raises(ServiceError) as err:
        accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    assert str(err.value) == "That username is taken"
    assert _count(session, User) == 1


def test_log_in_is_case_insensitive(session):
    signed = accounts.sign_up(session, "Alice", PASSWORD, settings=FAST)
    again = accounts.log_in(session, "  aLICE ", PASSWORD, settings=FAST)
    assert again.user_id == signed.user_id
    assert again.username == "Alice"
    assert again.token != signed.token
    assert accounts.user_for_token(session, again.token).user_id == signed.user_id


BAD_CREDENTIALS = [
    ("alice", "wrong-password"),
    ("nobody", PASSWORD),
    ("alice", ""),
    ("", PASSWORD),
    ("al\x00ice", PASSWORD),
    ("alice", PASSWORD + "x" * 80),
    ("alice", "pass\x00word"),
    ("alice", "pass\ud800word"),
    ("x" * 500, PASSWORD),
    ("al\ud800ice", PASSWORD),
]


def test_bad_credentials_get_one_message(session):
    accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    lenient = dataclasses.replace(FAST, login_max_failures=100)
    for name, password in BAD_CREDENTIALS:
        with pytest.raises(accounts.InvalidCredentials) as err:
            accounts.log_in(session, name, password, settings=lenient)
        assert str(err.value) == "Invalid username or password"
    assert _count(session, AuthSession) == 1  # only the sign-up session


def _fail(session, name, times):
    for _ in range(times):
        with pytest.raises(accounts.InvalidCredentials):
            accounts.log_in(session, name, "wrong-password", settings=FAST)


def test_five_failures_lock_the_username_for_15_minutes(session):
    accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    _fail(session, "alice", 4)
    accounts.log_in(session, "alice", PASSWORD, settings=FAST)  # 4 failures: still fine
    _fail(session, "Alice", 1)
    with pytest.raises(accounts.TooManyAttempts) as err:
        accounts.log_in(session, "alice", PASSWORD, settings=FAST)  # even the right password
    assert str(err.value) == "Too many attempts, try again in 15 minutes"
    assert err.value.minutes == 15
    with pytest.raises(accounts.TooManyAttempts):
        accounts.log_in(session, "ALICE", "wrong-password", settings=FAST)
    # other usernames are not affected
    accounts.sign_up(session, "bob", PASSWORD, settings=FAST)
    accounts.log_in(session, "bob", PASSWORD, settings=FAST)


@SQLITE_ONLY
def test_lockout_reports_minutes_until_oldest_failure_leaves_window(session):
    accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    now = utcnow()
    ages = [14, 13, 3, 2, 1]  # minutes ago; the oldest leaves the window in ~1 minute
    session.add_all(
        LoginFailure(username_key="alice", created_at=now - dt.timedelta(minutes=m, seconds=30))
        for m in ages
    )
    session.commit()
    with pytest.raises(accounts.TooManyAttempts) as err:
        accounts.log_in(session, "alice", PASSWORD, settings=FAST)
    assert str(err.value) == "Too many attempts, try again in 1 minute"


def test_failures_older_than_window_do_not_count(session):
    accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    old = utcnow() - dt.timedelta(minutes=16)
    session.add_all(LoginFailure(username_key="alice", created_at=old) for _ in range(10))
    session.commit()
    _fail(session, "alice", 4)
    accounts.log_in(session, "alice", PASSWORD, settings=FAST)


@SQLITE_ONLY
def test_unknown_usernames_are_throttled_too(session):
    _fail(session, "ghost", 5)
    with pytest.raises(accounts.TooManyAttempts):
        accounts.log_in(session, "ghost", PASSWORD, settings=FAST)


# Cost 10: ~60 ms a check, long enough to measure, short enough for the suite.
COST_10 = dataclasses.replace(
    FAST, bcrypt_rounds=10, login_max_failures=1000, login_address_max_failures=1000
)


def _failed_log_in_seconds(session, name: str) -> float:
    start = time.perf_counter()
    with pytest.raises(accounts.InvalidCredentials):
        accounts.log_in(session, name, "wrong-password", settings=COST_10)
    return time.perf_counter() - start


@SQLITE_ONLY
def test_failed_log_in_takes_as_long_for_unknown_usernames(session):
    """Issue 12, finding 3: timing must not tell which usernames exist."""
    accounts.sign_up(session, "alice", PASSWORD, settings=COST_10)
    _failed_log_in_seconds(session, "nobody")  # warm-up (the dummy hash is built once)
    existing, unknown = [], []
    for _ in range(10):  # interleaved, so drift in machine load hits both alike
        existing.append(_failed_log_in_seconds(session, "alice"))
        unknown.append(_failed_log_in_seconds(session, "nobody"))
    # The fastest of each: what the path costs when nothing else on the machine
    # (a build, a browser, another test's disk writes) gets in the way; medians
    # of ten on a busy 2-core box differed by 45% with no difference in the code.
    a, b = min(existing), min(unknown)
    assert abs(a - b) <= 0.2 * max(a, b), (
        f"fastest existing {a * 1000:.1f} ms, unknown {b * 1000:.1f} ms"
    )


@SQLITE_ONLY
def test_every_failed_log_in_checks_a_hash_of_the_configured_cost(session, monkeypatch):
    """Unknown and malformed names, and over-long passwords, all pay the full bcrypt cost."""
    accounts.sign_up(session, "alice", PASSWORD, settings=COST_10)
    checked: list[bytes] = []

    def runner(fn, *args):
        if fn is bcrypt.checkpw:
            checked.append(args[1])
        return fn(*args)

    monkeypatch.setattr(accounts.security._bcrypt_runner, "run", runner, raising=False)
    for name, password in [
        ("alice", "wrong-password"),
        ("nobody", PASSWORD),
        ("bad name!", PASSWORD),
        ("alice", "x" * 80),
    ]:
        with pytest.raises(accounts.InvalidCredentials):
            accounts.log_in(session, name, password, settings=COST_10)
    assert [h[:7] for h in checked] == [b"$2b$10$"] * 4


def test_log_out_revokes_and_publishes_one_event_after_commit(session, broker):
    signed = accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    other = accounts.log_in(session, "alice", PASSWORD, settings=FAST)
    broker.published.clear()
    accounts.log_out(session, signed.token)
    assert accounts.user_for_token(session, signed.token) is None
    assert accounts.user_for_token(session, other.token) is not None  # other device stays
    revoked = broker.of_type(events.SESSION_REVOKED)
    assert len(revoked) == 1
    assert revoked[0].user_id == signed.user_id
    assert revoked[0].data == {"token_hash": accounts.security.hash_token(signed.token)}
    assert len(broker.published) == 1
    # revoked in the database, not only in this session
    with Session(session.get_bind()) as fresh:
        row = fresh.exec(select(AuthSession).where(AuthSession.user_id == signed.user_id)).all()
        assert sum(r.revoked_at is not None for r in row) == 1
    # logging out twice, or with an unknown token, does nothing
    accounts.log_out(session, signed.token)
    accounts.log_out(session, "nonsense")
    accounts.log_out(session, "")
    assert len(broker.published) == 1


def test_expired_session_logs_nobody_in(session):
    signed = accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    session.exec(sa.update(AuthSession).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    session.commit()
    assert accounts.user_for_token(session, signed.token) is None


@SQLITE_ONLY
def test_session_expiry_follows_settings(session):
    accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    row = session.exec(select(AuthSession)).one()
    assert dt.timedelta(days=29, hours=23) < row.expires_at - utcnow() <= dt.timedelta(days=30)


def test_unknown_tokens_are_nobody(session):
    accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    for token in ["", "x", "a" * 201, "\x00", "\ud800"]:
        assert accounts.user_for_token(session, token) is None


def test_tokens_are_stored_hashed(session):
    signed = accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    second = accounts.log_in(session, "alice", PASSWORD, settings=FAST)
    with session.get_bind().connect() as conn:
        rows = [
            " ".join(str(v) for v in r)
            for r in conn.execute(sa.text("SELECT * FROM auth_sessions"))
        ]
    assert len(rows) == 2
    for token in (signed.token, second.token):
        assert not any(token in r for r in rows)
        assert any(accounts.security.hash_token(token) in r for r in rows)


@SQLITE_ONLY
def test_count_users(session):
    assert accounts.count_users(session) == 0
    accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    accounts.sign_up(session, "bob", PASSWORD, settings=FAST)
    assert accounts.count_users(session) == 2


# -- per client address ---------------------------------------------------------
HOME = "203.0.113.5"
OTHER = "198.51.100.7"
PER_ADDRESS = dataclasses.replace(FAST, login_address_max_failures=3, signup_address_max=2)


def _fail_from(session, address, names):
    for name in names:
        with pytest.raises(accounts.InvalidCredentials):
            accounts.log_in(
                session, name, "wrong-password", client_address=address, settings=PER_ADDRESS
            )


def test_failed_logins_per_address_lock_that_address_only(session):
    accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    _fail_from(session, HOME, ["alice", "bob", "carol"])  # spraying: one try per name
    with pytest.raises(accounts.TooManyAttempts) as err:  # even the right password
        accounts.log_in(session, "alice", PASSWORD, client_address=HOME, settings=PER_ADDRESS)
    assert str(err.value) == "Too many failed log-ins from your network, try again in 15 minutes"
    # the same account from another network, and the CLI (no address), are fine
    accounts.log_in(session, "alice", PASSWORD, client_address=OTHER, settings=PER_ADDRESS)
    accounts.log_in(session, "alice", PASSWORD, settings=PER_ADDRESS)
    rows = session.exec(select(LoginFailure.client_address)).all()
    assert rows == [HOME] * 3


def test_username_limit_counts_each_address_separately(session):
    """Failures for one name from different addresses do not add up (issue 12, finding 7)."""
    accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    lenient = dataclasses.replace(FAST, login_address_max_failures=100)
    for i in range(5):
        with pytest.raises(accounts.InvalidCredentials):
            accounts.log_in(
                session, "alice", "wrong", client_address=f"192.0.2.{i}", settings=lenient
            )
    accounts.log_in(session, "alice", PASSWORD, client_address="192.0.2.99", settings=lenient)
    accounts.log_in(session, "alice", PASSWORD, client_address="192.0.2.0", settings=lenient)
    accounts.log_in(session, "alice", PASSWORD, settings=lenient)  # no address: CLI, seed


def _fail_alice_from_home(session):
    for _ in range(5):
        with pytest.raises(accounts.InvalidCredentials):
            accounts.log_in(session, "alice", "wrong-password", client_address=HOME, settings=FAST)


def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(session):
    """Issue 12, finding 7: one address failing must not lock the account for everyone."""
    accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    _fail_alice_from_home(session)
    signed = accounts.log_in(session, "alice", PASSWORD, client_address=OTHER, settings=FAST)
    assert signed.username == "alice"
    accounts.log_in(session, "alice", PASSWORD, settings=FAST)  # no address: CLI, seed


def test_failing_address_stays_locked_for_that_username(session):
    accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    _fail_alice_from_home(session)
    with pytest.raises(accounts.TooManyAttempts) as err:  # even the right password
        accounts.log_in(session, "ALICE", PASSWORD, client_address=HOME, settings=FAST)
    assert str(err.value) == "Too many attempts, try again in 15 minutes"
    # the same address may still log in to other accounts (under the address cap)
    accounts.sign_up(session, "bob", PASSWORD, settings=FAST)
    accounts.log_in(session, "bob", PASSWORD, client_address=HOME, settings=FAST)


def test_address_cap_still_refuses_one_address_across_many_usernames(session):
    accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    cap = FAST.login_address_max_failures
    for i in range(cap):  # one guess per name: no username reaches its own limit
        with pytest.raises(accounts.InvalidCredentials):
            accounts.log_in(
                session, f"user{i}", "wrong-password", client_address=HOME, settings=FAST
            )
    for name in ("alice", "fresh-name"):
        with pytest.raises(accounts.TooManyAttempts, match=r"^Too many failed log-ins from your"):
            accounts.log_in(session, name, PASSWORD, client_address=HOME, settings=FAST)
    accounts.log_in(session, "alice", PASSWORD, client_address=OTHER, settings=FAST)


@SQLITE_ONLY
def test_malformed_usernames_count_against_the_address(session):
    _fail_from(session, HOME, ["x", "bad name", "\x00"])
    with pytest.raises(accounts.TooManyAttempts, match="from your network"):
        accounts.log_in(session, "alice", PASSWORD, client_address=HOME, settings=PER_ADDRESS)
    # ...but never lock the "malformed" name for everyone else
    with pytest.raises(accounts.InvalidCredentials):
        accounts.log_in(session, "x", PASSWORD, client_address=OTHER, settings=PER_ADDRESS)


@SQLITE_ONLY
def test_ipv6_addresses_count_per_64(session):
    _fail_from(session, "2001:db8:0:1::1", ["a1a"])
    _fail_from(session, "2001:db8:0:1::2", ["a2a"])
    _fail_from(session, "2001:db8:0:1:ffff::3", ["a3a"])
    with pytest.raises(accounts.TooManyAttempts):
        accounts.log_in(
            session, "abc", PASSWORD, client_address="2001:db8:0:1::9", settings=PER_ADDRESS
        )
    _fail_from(session, "2001:db8:0:2::1", ["a4a"])  # the next /64 is someone else


@SQLITE_ONLY
def test_address_failures_older_than_window_do_not_count(session):
    accounts.sign_up(session, "alice", PASSWORD, settings=FAST)
    old = utcnow() - dt.timedelta(minutes=16)
    session.add_all(
        LoginFailure(username_key=f"u{i}", client_address=HOME, created_at=old) for i in range(10)
    )
    session.commit()
    _fail_from(session, HOME, ["bob", "carol"])  # 2 recent failures: under the limit of 3
    signed = accounts.log_in(session, "alice", PASSWORD, client_address=HOME, settings=PER_ADDRESS)
    assert signed.username == "alice"  # the 10 old ones did not lock the address


def test_sign_ups_per_address_are_limited(session):
    accounts.sign_up(session, "alice", PASSWORD, client_address=HOME, settings=PER_ADDRESS)
    with pytest.raises(ServiceError, match=r"^That username is taken$"):  # probing counts too
        accounts.sign_up(session, "Alice", PASSWORD, client_address=HOME, settings=PER_ADDRESS)
    with pytest.raises(accounts.TooManyAttempts) as err:
        accounts.sign_up(session, "bob", PASSWORD, client_address=HOME, settings=PER_ADDRESS)
    assert str(err.value) == "Too many sign-ups from your network, try again in 60 minutes"
    assert _count(session, User) == 1
    accounts.sign_up(session, "bob", PASSWORD, client_address=OTHER, settings=PER_ADDRESS)
    accounts.sign_up(session, "carol", PASSWORD, settings=PER_ADDRESS)  # no address: CLI, seed
    assert _count(session, User) == 3


@SQLITE_ONLY
def test_invalid_sign_ups_do_not_count(session):
    for _ in range(5):
        with pytest.raises(ServiceError, match="at least 8"):
            accounts.sign_up(session, "alice", "short", client_address=HOME, settings=PER_ADDRESS)
    accounts.sign_up(session, "alice", PASSWORD, client_address=HOME, settings=PER_ADDRESS)


@SQLITE_ONLY
def test_sign_up_lock_reports_minutes_until_oldest_attempt_leaves_window(session):
    now = utcnow()
    session.add_all(
        SignupAttempt(client_address=HOME, created_at=now - dt.timedelta(minutes=m))
        for m in (50, 61, 5)
    )
    session.commit()
    with pytest.raises(accounts.TooManyAttempts) as err:
        accounts.sign_up(session, "alice", PASSWORD, client_address=HOME, settings=PER_ADDRESS)
    assert str(err.value) == "Too many sign-ups from your network, try again in 10 minutes"
