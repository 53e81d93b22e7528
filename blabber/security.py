"""Password hashing and session tokens.

bcrypt only reads the first 72 bytes of a password. Blabber **rejects**
passwords longer than 72 bytes (UTF-8) with a clear message rather than
pre-hashing or silently truncating: a user is never told a password works
when only its prefix mattered. Hashing is CPU-bound (~0.25 s at cost 12), so
callers on the event loop must run these functions in a thread.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import bcrypt

BCRYPT_MAX_BYTES = 72
TOKEN_BYTES = 32  # 256 bits of randomness per session token

# A valid hash of a random password, checked when the username does not exist
# so a login takes the same time whether or not the account exists.
_DUMMY_HASH = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=4)).decode()


def hash_password(password: str, *, rounds: int = 12) -> str:
    """bcrypt-hash ``password``; it must be at most 72 UTF-8 bytes."""
    raw = password.encode("utf-8")
    if len(raw) > BCRYPT_MAX_BYTES:
        raise ValueError("password longer than 72 bytes")
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when ``password`` matches; always spends a bcrypt check."""
    try:
        raw: bytes | None = password.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (crafted payload) matches no password
        raw = None
    if raw is None or password_hash is None or len(raw) > BCRYPT_MAX_BYTES:
        bcrypt.checkpw(b"x", _DUMMY_HASH.encode("ascii"))
        return False
    try:
        return bcrypt.checkpw(raw, password_hash.encode("ascii"))
    except ValueError:
        return False


def new_session_token() -> str:
    """A fresh opaque session token (URL-safe, 256 random bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The stored form of a session token (SHA-256 hex)."""
    # surrogatepass: a crafted token with a lone surrogate hashes (to nothing stored)
    # instead of raising; real tokens are ASCII.
    return hashlib.sha256(token.encode("utf-8", errors="surrogatepass")).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a, b)
