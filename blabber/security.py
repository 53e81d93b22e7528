"""Password hashing, session tokens, and who the client really is.

bcrypt only reads the first 72 bytes of a password. Blabber **rejects**
passwords longer than 72 bytes (UTF-8) with a clear message rather than
pre-hashing or silently truncating: a user is never told a password works
when only its prefix mattered. Hashing is CPU-bound (~0.25 s at cost 12), so
callers on the event loop must run these functions in a thread; a thread may
also send the bcrypt work itself elsewhere (``send_bcrypt_work_to``; the
server's password threads use a separate low-priority process, see
``blabber/hashing.py``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import secrets
import threading
from collections.abc import Callable, Iterable
from typing import Any

import bcrypt

BCRYPT_MAX_BYTES = 72
TOKEN_BYTES = 32  # 256 bits of randomness per session token

_bcrypt_runner = threading.local()


def send_bcrypt_work_to(runner: Callable[..., Any]) -> None:
    """From now on, this thread's bcrypt calls run as ``runner(fn, *args)``."""
    _bcrypt_runner.run = runner


def _bcrypt(fn: Callable[..., Any], *args: bytes) -> Any:
    run = getattr(_bcrypt_runner, "run", None)
    return fn(*args) if run is None else run(fn, *args)


def hash_password(password: str, *, rounds: int = 12) -> str:
    """bcrypt-hash ``password``; it must be at most 72 UTF-8 bytes."""
    raw = password.encode("utf-8")
    if len(raw) > BCRYPT_MAX_BYTES:
        raise ValueError("password longer than 72 bytes")
    return _bcrypt(bcrypt.hashpw, raw, bcrypt.gensalt(rounds=rounds)).decode("ascii")


@functools.cache
def dummy_hash(rounds: int) -> bytes:
    """A hash of a random password at cost ``rounds``, built on first use, then kept.

    Checked instead of a real hash when there is none (unknown username,
    malformed input), so a failed login takes as long whether or not the
    account exists. It must have the cost real hashes have: at cost 4 against
    12, an unknown name answered in ~12 ms instead of ~255 ms. Building it
    costs one hash (~0.25 s at 12), so never at import time, and through the
    same runner as real checks (the hashing process, see ``blabber/hashing.py``).
    """
    return _bcrypt(bcrypt.hashpw, secrets.token_bytes(16), bcrypt.gensalt(rounds=rounds))


def verify_password(password: str, password_hash: str | None, *, dummy_rounds: int = 12) -> bool:
    """True when ``password`` matches; always spends a bcrypt check.

    ``dummy_rounds`` is the cost of real hashes (``settings.bcrypt_rounds``):
    with no hash to check, or a password that cannot match, the check is made
    against a :func:`dummy_hash` of that cost instead.
    """
    try:
        raw: bytes | None = password.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (crafted payload) matches no password
        raw = None
    if raw is None or password_hash is None or len(raw) > BCRYPT_MAX_BYTES:
        _bcrypt(bcrypt.checkpw, b"x", dummy_hash(dummy_rounds))
        return False
    try:
        return _bcrypt(bcrypt.checkpw, raw, password_hash.encode("ascii"))
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


# -- client addresses ----------------------------------------------------------
# Rate limits per client address need the *browser's* address. Behind nginx
# the socket's peer is the proxy, and the browser's address is the last entry
# nginx appended to X-Forwarded-For; but anyone can send that header, so it is
# believed only when the peer is a configured trusted proxy
# (BLABBER_TRUSTED_PROXIES), and only as many entries deep as we have proxies
# appending to it (BLABBER_TRUSTED_PROXY_HOPS, default 1). Never further:
# entries left of those are whatever the client sent, and a forged
# "6.6.6.6, 192.168.1.50" must not become 6.6.6.6 just because the forged
# right-hand entry looks like one of ours. Reflex puts the socket's peer in
# ``router.session.client_ip`` (its own ``trusted_proxy_hops`` is left at 0)
# and computes it, like the headers, from the connection, never from event data.

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse_ip(text: str) -> IPAddress | None:
    try:
        ip = ipaddress.ip_address(text.strip().removeprefix("[").split("]")[0])
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:1.2.3.4 is 1.2.3.4
    return mapped or ip


def client_address(
    peer: str, forwarded_for: str, trusted_proxies: Iterable[str], *, hops: int = 1
) -> str:
    """The client's address: ``peer``, or from X-Forwarded-For when the peer is trusted.

    ``hops`` is how many proxies of ours append to X-Forwarded-For. Steps
    from the peer to the right-most entry, then the next, at most ``hops``
    times, and only while the address stepped from is a trusted proxy: an
    untrusted peer or intermediate hop is itself the client (it could have
    written anything to its left). Returns ``""`` when the peer is unknown.
    """
    networks = [ipaddress.ip_network(n, strict=False) for n in trusted_proxies]
    current = _parse_ip(peer)
    if current is None:
        return ""
    entries = [h for h in (forwarded_for or "").split(",") if h.strip()]
    for _ in range(hops):
        if not entries or not any(current in net for net in networks):
            break
        previous = _parse_ip(entries.pop())
        if previous is None:  # a garbled entry: stop at the last address we trust
            break
        current = previous
    return str(current)


def is_trusted_proxy(peer: str, trusted_proxies: Iterable[str]) -> bool:
    """Whether ``peer`` is one of our proxies (BLABBER_TRUSTED_PROXIES), whose headers count."""
    address = _parse_ip(peer)
    return address is not None and any(
        address in ipaddress.ip_network(n, strict=False) for n in trusted_proxies
    )


def address_key(address: str) -> str:
    """What a per-address limit counts: the IPv4 address, or the IPv6 /64.

    One IPv6 subscriber usually holds a whole /64, so counting single IPv6
    addresses would let anyone rotate through 2**64 of them.
    """
    ip = _parse_ip(address)
    if ip is None:
        return ""
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
