"""Sign up, log in, log out, and who a session token belongs to.

Passwords: at least 8 characters and at most 72 UTF-8 bytes (bcrypt's limit;
longer ones are refused, not truncated). Failed logins are counted per
client address (any usernames) and per username *from that address*, and
sign-up attempts per client address, in the database so the limits hold
across worker processes. A username's failures from one address never lock
it for another: otherwise anyone could keep a real person locked out by
failing five times every 15 minutes. The address is whatever the caller
resolved (``security.client_address``); services only count it (as
``security.address_key``). When it is unknown (the seed command, tests) the
per-address limit is skipped and a username's failures count among those
with no address.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from blabber import security
from blabber.models import AuthSession, LoginFailure, SignupAttempt, User, utcnow
from blabber.realtime import events
from blabber.services.errors import ServiceError
from blabber.services.invites import NOT_VALID, invite_is_good, take_use
from blabber.services.outbox import publish_on_commit
from blabber.settings import Settings, get_settings

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,32}$")
INVALID_CREDENTIALS = "Invalid username or password"
USERNAME_TAKEN = "That username is taken"
INVITE_NEEDED = "Sign-up is by invite only: ask a site admin for an invite link"
INVITE_NOT_VALID = NOT_VALID
SIGNUP_CLOSED = "Sign-up is closed: a site admin creates accounts"
DEACTIVATED = "This account was deactivated by a site admin"


class InvalidCredentials(ServiceError):
    """Wrong username or password; deliberately one message for both."""

    def __init__(self) -> None:
        super().__init__(INVALID_CREDENTIALS)


def _minutes(minutes: int) -> str:
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"


class TooManyAttempts(ServiceError):
    """A rate limit is reached; says which one and how long to wait."""

    def __init__(self, minutes: int, what: str = "Too many attempts") -> None:
        super().__init__(f"{what}, try again in {_minutes(minutes)}")
        self.minutes = minutes


# The "from your network" wording: behind a NAT the address is shared, so the
# person reading it may not be the one who caused it.
TOO_MANY_LOGINS_FROM_ADDRESS = "Too many failed log-ins from your network"
TOO_MANY_SIGNUPS_FROM_ADDRESS = "Too many sign-ups from your network"


@dataclasses.dataclass(frozen=True)
class SignedIn:
    """The result of sign-up or log-in: who, and the token to keep."""

    user_id: int
    username: str
    token: str


def validate_username(username: str) -> str:
    """Return the trimmed username or raise with the rule it breaks."""
    name = (username or "").strip()
    if not USERNAME_RE.fullmatch(name):
        raise ServiceError("Username must be 3–32 characters: letters, digits, _ . or -")
    return name


def validate_password(password: str) -> str:
    """Return the password or raise with the rule it breaks."""
    password = password or ""
    if len(password) < 8:
        raise ServiceError("Password must be at least 8 characters")
    if "\x00" in password:
        raise ServiceError("Password cannot contain NUL characters")
    try:
        size = len(password.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate, only possible in a crafted payload
        raise ServiceError("Password contains characters that cannot be used") from None
    if size > security.BCRYPT_MAX_BYTES:
        raise ServiceError("Password must be at most 72 bytes (about 72 letters)")
    return password


def _start_session(session: Session, user: User, settings: Settings) -> SignedIn:
    token = security.new_session_token()
    session.add(
        AuthSession(
            token_hash=security.hash_token(token),
            user_id=user.id,  # type: ignore[arg-type]
            expires_at=utcnow() + dt.timedelta(days=settings.session_days),
        )
    )
    user.last_seen_at = utcnow()
    session.add(user)
    session.commit()
    return SignedIn(user_id=user.id, username=user.username, token=token)  # type: ignore[arg-type]


def sign_up(
    session: Session,
    username: str,
    password: str,
    *,
    client_address: str = "",
    invite_code: str = "",
    settings: Settings | None = None,
) -> SignedIn:
    """Create an account and log it in. Blocking (bcrypt): call off the event loop.

    Who may: ``settings.signup_mode`` (open, invite, closed); the first
    account of a fresh install always may, and runs the site. A valid
    ``invite_code`` takes one use of its invite, in this transaction (a
    refused sign-up, e.g. a taken name, gives the use back by rolling back).

    Every attempt that passes validation counts against ``client_address``,
    including "username taken": that answer reveals which accounts exist, so
    probing for them is held to the same pace as creating accounts. A
    sign-up through a valid invite is not counted: a team onboarding
    together behind one office address must not run into that limit.
    """
    settings = settings or get_settings()
    name = validate_username(username)
    validate_password(password)
    key = name.lower()
    first = session.exec(select(User.id).limit(1)).first() is None
    invited = bool(invite_code) and invite_is_good(session, invite_code)
    if not first and settings.signup_mode == "closed":
        raise ServiceError(SIGNUP_CLOSED)
    if invite_code and not invited and settings.signup_mode != "open":
        raise ServiceError(INVITE_NOT_VALID)
    if not first and not invited and settings.signup_mode == "invite":
        raise ServiceError(INVITE_NEEDED)
    address = "" if invited else security.address_key(client_address)
    if address:
        window = dt.timedelta(minutes=settings.signup_window_minutes)
        minutes = _minutes_left(
            session,
            SignupAttempt.created_at,
            SignupAttempt.client_address == address,
            settings.signup_address_max,
            window,
        )
        if minutes:
            raise TooManyAttempts(minutes, TOO_MANY_SIGNUPS_FROM_ADDRESS)
        session.add(SignupAttempt(client_address=address))
    if session.exec(select(User.id).where(User.username_key == key)).first():
        session.commit()  # keep the attempt
        raise ServiceError(USERNAME_TAKEN)
    # The use is taken here, in the account's transaction: a refusal from now
    # on rolls it back, and of two sign-ups racing for a last use one gets it.
    if invited and not take_use(session, invite_code):
        raise ServiceError(INVITE_NOT_VALID)
    user = User(
        username=name,
        username_key=key,
        password_hash=security.hash_password(password, rounds=settings.bcrypt_rounds),
        is_site_admin=first,
    )
    session.add(user)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        session.rollback()
        raise ServiceError(USERNAME_TAKEN) from None
    return _start_session(session, user, settings)


def _minutes_left(session: Session, at, where, limit: int, window: dt.timedelta) -> int:
    """Minutes until fewer than ``limit`` rows matching ``where`` fall in ``window`` (0: free).

    ``at`` is the rows' timestamp column; the indexes ending in ``created_at``
    (see ``models.LoginFailure``, ``models.SignupAttempt``) make this read at
    most ``limit`` index entries.
    """
    rows = session.exec(
        select(at).where(where, col(at) > utcnow() - window).order_by(col(at).desc()).limit(limit)
    ).all()
    if len(rows) < limit:
        return 0
    # Locked until the oldest of the last N rows leaves the window.
    unlock_at = rows[-1] + window
    return max(1, math.ceil((unlock_at - utcnow()).total_seconds() / 60))


def _login_lock(session: Session, key: str, address: str, settings: Settings) -> None:
    """Raise when this client address, or this username from this address, failed too often.

    The address is checked first: its message is the more useful one for a
    script spraying many usernames. The username's failures are counted only
    from this same address (from no address when it is unknown), so whoever
    fails for a name locks out only themselves, never its owner elsewhere.
    Guessing one name from many addresses is held back by each address's own
    limit, and by bcrypt's cost.
    """
    window = dt.timedelta(minutes=settings.login_window_minutes)
    failed = LoginFailure.created_at
    if address:
        minutes = _minutes_left(
            session,
            failed,
            LoginFailure.client_address == address,
            settings.login_address_max_failures,
            window,
        )
        if minutes:
            raise TooManyAttempts(minutes, TOO_MANY_LOGINS_FROM_ADDRESS)
    if not key:  # a malformed name: only the address counts
        return
    from_address = col(LoginFailure.client_address)
    same_address = from_address == address if address else from_address.is_(None)
    minutes = _minutes_left(
        session,
        failed,
        sa.and_(col(LoginFailure.username_key) == key, same_address),
        settings.login_max_failures,
        window,
    )
    if minutes:
        raise TooManyAttempts(minutes)


def _record_failure(session: Session, key: str, address: str) -> None:
    session.add(LoginFailure(username_key=key, client_address=address or None))
    session.commit()


def log_in(
    session: Session,
    username: str,
    password: str,
    *,
    client_address: str = "",
    settings: Settings | None = None,
) -> SignedIn:
    """Check credentials and start a session. Blocking (bcrypt).

    Checked before the password, so a locked username or address cannot be
    unlocked by guessing right. A malformed username still counts against
    the address (a script sending garbage is guessing too).
    """
    settings = settings or get_settings()
    address = security.address_key(client_address)
    key = (username or "").strip().lower()[:64]
    if not USERNAME_RE.fullmatch(key):
        # No account can have this name; answer like a wrong password without
        # putting the name in a query (PostgreSQL rejects NUL characters).
        if address:
            _login_lock(session, "", address, settings)
        security.verify_password(password or "", None, dummy_rounds=settings.bcrypt_rounds)
        if address:
            _record_failure(session, "", address)
        raise InvalidCredentials()
    _login_lock(session, key, address, settings)
    user = session.exec(select(User).where(User.username_key == key)).first()
    # A deleted account is checked like an unknown name (as long, as refused).
    stored = user.password_hash if user and user.deleted_at is None else None
    if not security.verify_password(password or "", stored, dummy_rounds=settings.bcrypt_rounds):
        _record_failure(session, key, address)
        raise InvalidCredentials()
    assert user is not None
    if user.deactivated_at is not None:  # the right password: it may be told why
        raise ServiceError(DEACTIVATED)
    return _start_session(session, user, settings)


def log_out(session: Session, token: str) -> None:
    """Revoke the session for ``token`` everywhere (no-op if unknown)."""
    row = session.exec(
        select(AuthSession).where(AuthSession.token_hash == security.hash_token(token or ""))
    ).first()
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    session.add(row)
    publish_on_commit(
        session,
        events.Event(
            type=events.SESSION_REVOKED,
            user_id=row.user_id,
            data={"token_hash": row.token_hash},
        ),
    )
    session.commit()


@dataclasses.dataclass(frozen=True)
class CurrentUser:
    """The signed-in user, as the UI needs it."""

    user_id: int
    username: str
    token_hash: str


def user_for_token(session: Session, token: str) -> CurrentUser | None:
    """Who ``token`` logs in, or None if unknown, revoked or expired."""
    if not token or len(token) > 200:
        return None
    token_hash = security.hash_token(token)
    row = session.exec(
        select(AuthSession, User)
        .join(User, col(User.id) == AuthSession.user_id)
        .where(
            AuthSession.token_hash == token_hash,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.expires_at) > utcnow(),
        )
    ).first()
    if row is None:
        return None
    _auth, user = row
    return CurrentUser(user_id=user.id, username=user.username, token_hash=token_hash)  # type: ignore[arg-type]


def count_users(session: Session) -> int:
    """How many accounts exist (for the seed command and health output)."""
    return session.exec(select(func.count()).select_from(User)).one()
