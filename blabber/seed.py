"""Demo data: ``python -m blabber.seed --users N`` (or ``make seed USERS=N``).

Creates ``user1`` … ``userN`` sharing one printed password, a few rooms that
everyone joins, and some messages, so a newcomer can log in and look around
at once. Safe to re-run: users, memberships and messages (fixed client ids) are reused.
"""

from __future__ import annotations

import argparse

from sqlmodel import Session, select

from blabber import db
from blabber.models import User
from blabber.services import accounts, messages, rooms
from blabber.settings import get_settings

DEMO_PASSWORD = "blabber-demo"  # noqa: S105 - demo accounts only, printed on purpose
DEMO_ROOMS = ("general", "random", "dev")
DEMO_LINES = (
    "Welcome to Blabber 👋",
    "Press Enter to send, Shift+Enter for a new line.",
    "Open a second browser (or a private window) as another user to see live updates.",
)


def _ensure_user(session: Session, name: str) -> int:
    existing = session.exec(select(User).where(User.username_key == name.lower())).first()
    if existing is not None:
        return existing.id  # type: ignore[return-value]
    return accounts.sign_up(session, name, DEMO_PASSWORD).user_id


def seed(session: Session, users: int) -> dict[str, int]:
    """Create the demo users, rooms and messages; returns counts."""
    settings = get_settings()
    user_ids = [_ensure_user(session, f"user{i}") for i in range(1, users + 1)]
    room_ids: list[int] = []
    for room_name in DEMO_ROOMS:
        for user_id in user_ids:  # the first user creates the room and is its admin
            joined = rooms.join_room(session, user_id, room_name)
        room_ids.append(joined.id)
    sent = 0
    for line_no, line in enumerate(DEMO_LINES):
        author = user_ids[line_no % len(user_ids)]
        messages.send_message(
            session, author, room_ids[0], line, f"seed-{line_no}", settings=settings
        )
        sent += 1
    return {"users": len(user_ids), "rooms": len(DEMO_ROOMS), "messages": sent}


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5, help="how many demo users (default 5)")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 10_000:
        parser.error("--users must be between 1 and 10000")
    counts = db.run_sync(seed, args.users)
    print(
        f"Seeded {counts['users']} users (user1…user{args.users}), rooms "
        f"{', '.join(DEMO_ROOMS)} and {counts['messages']} messages."
    )
    print(f"Log in as any of them with the password: {DEMO_PASSWORD}")


if __name__ == "__main__":
    main()
