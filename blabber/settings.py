"""Runtime configuration, read once from the environment.

Nothing else in the project reads ``os.environ``: modules ask for
:func:`get_settings`, and tests build a :class:`Settings` from a plain mapping
with :meth:`Settings.from_env` so they never depend on the machine's shell.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'blabber.db'}"
DEFAULT_PORT = 3000
DEFAULT_SECRET_KEY = "dev-insecure-secret"  # noqa: S105 - refused in production
MIN_SECRET_KEY_CHARS = 32


def _default_origins(port: int) -> tuple[str, ...]:
    return (f"http://localhost:{port}", f"http://127.0.0.1:{port}")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    return int(raw) if raw else default


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    return float(raw) if raw else default


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated addresses or CIDR networks, normalised; garbage fails loudly.

    Checked here, at start-up, so a typo in ``BLABBER_TRUSTED_PROXIES`` stops
    the app instead of silently trusting nobody (or everybody).
    """
    items = (item.strip() for item in env.get(name, "").split(","))
    return tuple(str(ipaddress.ip_network(item, strict=False)) for item in items if item)


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first when unset); any other value stops the app at start-up."""
    value = env.get(name, "").strip().lower() or choices[0]
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _storage_url(env: Mapping[str, str]) -> str:
    """BLABBER_STORAGE_URL: ``file://`` or ``s3://bucket``; anything else stops the app at start."""
    value = env.get("BLABBER_STORAGE_URL", "").strip() or "file://data/uploads"
    scheme, _, rest = value.partition("://")
    if scheme not in ("file", "s3") or not rest.strip("/"):
        wanted = "file://<dir> or s3://<bucket>"
        raise ValueError(f"BLABBER_STORAGE_URL must be {wanted}; got {value!r}")
    return value


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every knob Blabber has; see the configuration table in README.md."""

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    port: int = DEFAULT_PORT
    allowed_origins: tuple[str, ...] = _default_origins(DEFAULT_PORT)
    session_days: int = 30
    login_max_failures: int = 5  # per username *from one address* (no lock-out from elsewhere)
    login_window_minutes: int = 15
    # Per client address (see security.client_address): failed logins for any
    # usernames within login_window_minutes, and sign-up attempts per window.
    login_address_max_failures: int = 20
    signup_address_max: int = 10
    signup_window_minutes: int = 60
    # Who may create an account (BLABBER_SIGNUP): "open" (anyone), "invite" (through
    # an invite link only) or "closed" (the site admin creates accounts). The first
    # account of a fresh install may always sign up: it becomes the site admin.
    signup_mode: str = "open"
    # Where uploaded files live (blabber/storage.py): file://<dir> (relative to the
    # project) or s3://<bucket>/<prefix>; the S3 API's endpoint (empty: AWS).
    storage_url: str = "file://data/uploads"
    s3_endpoint_url: str = ""
    upload_max_mb: int = 25
    # How fast one worker takes in upload bytes, all uploads together (MB/s; 0: no
    # cap), after a burst of one largest file. Receiving is event-loop work: flat
    # out on loopback it slowed chat's p50 6x; 50 MB/s still raised its p95 up to
    # 2.9x, 25 MB/s kept it within 1.2x (bench/RESULTS.md §16).
    upload_worker_mb_s: int = 25
    # Reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs).
    trusted_proxies: tuple[str, ...] = ()
    # How many of those proxies append to X-Forwarded-For (nginx alone: 1); entries
    # further left are the client's to forge, never believed.
    trusted_proxy_hops: int = 1
    # Rooms a user may join (that they were not in) per window; see rooms.join_room.
    join_max: int = 20
    join_window_seconds: int = 60
    message_max_chars: int = 4000
    # Sends per user per window: 20 quick messages (pasted lines, fast replies)
    # pass; sustained flooding above ~3 a second is refused.
    message_burst: int = 20
    message_burst_seconds: int = 6
    typing_min_gap_seconds: float = 1.0
    history_page_size: int = 10
    message_window: int = 50
    bcrypt_rounds: int = 12
    password_threads: int = 1
    presence_ttl_seconds: int = 45
    production: bool = False
    secret_key: str = DEFAULT_SECRET_KEY
    # True when BLABBER_ALLOWED_ORIGINS was given: the localhost fallback is a
    # development convenience that must never silently reach production.
    origins_configured: bool = False

    @property
    def broker_url(self) -> str:
        """Where realtime events travel: Redis when configured, else in-process."""
        return self.redis_url or "memory://"

    def production_problems(self) -> list[str]:
        """Why these settings are unsafe for production (empty when they are fine).

        Checked only when ``production`` is set (``BLABBER_ENV=production``);
        ``blabber.blabber`` refuses to start while this list is not empty, so a
        deploy with a forgotten ``.env`` fails loudly instead of running with a
        public default secret or a websocket that accepts any origin.
        """
        if not self.production:
            return []
        problems = []
        if self.secret_key == DEFAULT_SECRET_KEY:
            problems.append("BLABBER_SECRET_KEY is unset (the development default is public)")
        elif len(self.secret_key) < MIN_SECRET_KEY_CHARS:
            problems.append(f"BLABBER_SECRET_KEY is shorter than {MIN_SECRET_KEY_CHARS} characters")
        if not self.origins_configured:
            problems.append(
                "BLABBER_ALLOWED_ORIGINS is unset (list the public origin(s), "
                "e.g. https://chat.example.com)"
            )
        elif "*" in self.allowed_origins:
            problems.append("BLABBER_ALLOWED_ORIGINS must not contain '*' in production")
        return problems

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from an environment mapping (``os.environ`` in production)."""
        database_url = env.get("REFLEX_DB_URL") or env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        origins = tuple(
            o.strip() for o in env.get("BLABBER_ALLOWED_ORIGINS", "").split(",") if o.strip()
        )
        port = _int(env, "PORT", DEFAULT_PORT)
        return cls(
            database_url=database_url,
            port=port,
            redis_url=env.get("REFLEX_REDIS_URL") or env.get("REDIS_URL") or None,
            allowed_origins=origins or _default_origins(port),
            origins_configured=bool(origins),
            session_days=_int(env, "BLABBER_SESSION_DAYS", 30),
            login_max_failures=_int(env, "BLABBER_LOGIN_MAX_FAILURES", 5),
            login_window_minutes=_int(env, "BLABBER_LOGIN_WINDOW_MINUTES", 15),
            login_address_max_failures=_int(env, "BLABBER_LOGIN_ADDRESS_MAX_FAILURES", 20),
            signup_address_max=_int(env, "BLABBER_SIGNUP_ADDRESS_MAX", 10),
            signup_window_minutes=_int(env, "BLABBER_SIGNUP_WINDOW_MINUTES", 60),
            signup_mode=_choice(env, "BLABBER_SIGNUP", ("open", "invite", "closed")),
            storage_url=_storage_url(env),
            s3_endpoint_url=env.get("BLABBER_S3_ENDPOINT_URL", "").strip(),
            upload_max_mb=_int(env, "BLABBER_UPLOAD_MAX_MB", 25),
            upload_worker_mb_s=_int(env, "BLABBER_UPLOAD_WORKER_MB_S", 25),
            trusted_proxies=_networks(env, "BLABBER_TRUSTED_PROXIES"),
            trusted_proxy_hops=_int(env, "BLABBER_TRUSTED_PROXY_HOPS", 1),
            join_max=_int(env, "BLABBER_JOIN_MAX", 20),
            join_window_seconds=_int(env, "BLABBER_JOIN_WINDOW_SECONDS", 60),
            message_max_chars=_int(env, "BLABBER_MESSAGE_MAX_CHARS", 4000),
            message_burst=_int(env, "BLABBER_MESSAGE_BURST", 20),
            message_burst_seconds=_int(env, "BLABBER_MESSAGE_BURST_SECONDS", 6),
            typing_min_gap_seconds=_float(env, "BLABBER_TYPING_MIN_GAP_SECONDS", 1.0),
            history_page_size=_int(env, "BLABBER_HISTORY_PAGE_SIZE", 10),
            message_window=_int(env, "BLABBER_MESSAGE_WINDOW", 50),
            bcrypt_rounds=_int(env, "BLABBER_BCRYPT_ROUNDS", 12),
            password_threads=_int(env, "BLABBER_PASSWORD_THREADS", 1),
            presence_ttl_seconds=_int(env, "BLABBER_PRESENCE_TTL_SECONDS", 45),
            production=env.get("BLABBER_ENV", "").lower() == "production",
            secret_key=env.get("BLABBER_SECRET_KEY") or DEFAULT_SECRET_KEY,
        )


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, built from ``os.environ`` on first use."""
    return Settings.from_env(os.environ)
