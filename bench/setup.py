"""Benchmark fixtures: databases, accounts, rooms and history, written directly.

Creating accounts is setup, not what is measured, so users, sessions and
memberships are bulk-inserted with the app's own tables (one bcrypt hash at
the production cost, shared by every bench user; real logins measured in the
login-stall mode verify against it at full cost).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

import sqlalchemy as sa

from blabber import db, security
from blabber.models import AuthSession, Membership, Message, Room, User

PASSWORD = "bench-password-1"


class Seeder:
    """Bulk-creates bench users (with session tokens) and rooms in one database."""

    def __init__(self, url: str) -> None:
        self.engine = db.make_engine(url)
        self.password_hash = security.hash_password(PASSWORD, rounds=12)
        self.users: list[tuple[int, str, str]] = []  # (id, username, session token)

    def ensure_users(self, count: int) -> list[tuple[int, str, str]]:
        """At least ``count`` users exist, each with a live session token."""
        now = dt.datetime.now(dt.UTC)
        start = len(self.users)
        if count <= start:
            return self.users[:count]
        names = [f"bench_{i:05d}" for i in range(start, count)]
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(User.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "username": n,
                        "username_key": n,
                        "password_hash": self.password_hash,
                        "created_at": now,
                    }
                    for n in names
                ],
            )
            users = User.__table__  # type: ignore[attr-defined]
            rows = conn.execute(
                sa.select(users.c.id, users.c.username).where(users.c.username.in_(names))
            ).all()
            ids = {name: uid for uid, name in rows}
            tokens = {n: secrets.token_urlsafe(32) for n in names}
            conn.execute(
                sa.insert(AuthSession.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "token_hash": security.hash_token(tokens[n]),
                        "user_id": ids[n],
                        "created_at": now,
                        "expires_at": now + dt.timedelta(days=30),
                    }
                    for n in names
                ],
            )
        self.users += [(ids[n], n, tokens[n]) for n in names]
        return self.users[:count]

    def room(self, name: str, user_ids: list[int]) -> int:
        """Create room ``name`` with these members (the first is its admin)."""
        now = dt.datetime.now(dt.UTC)
        with self.engine.begin() as conn:
            room_id = conn.execute(
                sa.insert(Room.__table__)  # type: ignore[attr-defined]
                .values(name=name, name_key=name.lower(), created_at=now)
                .returning(Room.__table__.c.id)  # type: ignore[attr-defined]
            ).scalar_one()
            conn.execute(
                sa.insert(Membership.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "room_id": room_id,
                        "user_id": uid,
                        "role": "admin" if i == 0 else "member",
                        "joined_at": now,
                        "last_read_message_id": 0,
                    }
                    for i, uid in enumerate(user_ids)
                ],
            )
        return room_id

    def history(self, room_id: int, author_id: int, count: int) -> float:
        """Insert ``count`` old messages into a room in SQL; returns seconds taken."""
        start = time.perf_counter()
        table = Message.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.execute(
                    sa.text(
                        f"INSERT INTO {table.name} (room_id, author_id, kind, body, created_at) "
                        "SELECT :room, :author, 'user', 'history message ' || g, "
                        "now() - make_interval(secs => :n - g) FROM generate_series(1, :n) g"
                    ),
                    {"room": room_id, "author": author_id, "n": count},
                )
            else:
                conn.execute(
                    sa.text(
                        "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g "
                        "WHERE x < :n) "
                        f"INSERT INTO {table.name} (room_id, author_id, kind, body, created_at) "
                        "SELECT :room, :author, 'user', 'history message ' || x, "
                        "strftime('%Y-%m-%d %H:%M:%f', 'now') FROM g"
                    ),
                    {"room": room_id, "author": author_id, "n": count},
                )
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text(f"ANALYZE {table.name}"))
        return time.perf_counter() - start

    def dispose(self) -> None:
        """Close the pool (before dropping the database)."""
        self.engine.dispose()
