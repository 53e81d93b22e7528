"""Who is online: one row per open tab, heartbeated by its worker.

A user is online while any of their rows is younger than the TTL. Each
worker calls :func:`sync_worker` every couple of seconds with the tabs it
holds: new tabs are inserted, closed ones deleted, the rest refreshed in one
UPDATE. A worker that dies stops heartbeating and its rows expire (any
worker's sync sweeps them), so presence never sticks after a crash.
Status changes are published as one event per sync, after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlmodel import Session, col, select

from blabber.models import Membership, PresenceConnection, utcnow
from blabber.realtime import events
from blabber.services.outbox import publish_on_commit


def online_user_ids(session: Session, user_ids: Iterable[int], ttl_seconds: int) -> set[int]:
    """The subset of ``user_ids`` with a fresh connection."""
    ids = list(set(user_ids))
    if not ids:
        return set()
    since = utcnow() - dt.timedelta(seconds=ttl_seconds)
    rows = session.exec(
        select(PresenceConnection.user_id)
        .where(
            col(PresenceConnection.user_id).in_(ids),
            col(PresenceConnection.heartbeat_at) > since,
        )
        .distinct()
    ).all()
    return set(rows)


def sync_worker(
    session: Session,
    worker_id: str,
    connections: Mapping[str, int],
    ttl_seconds: int,
) -> dict[int, bool]:
    """Make the table match this worker's open tabs; return ``{user_id: online}`` changes.

    ``connections`` maps client token to user id for every tab this worker
    holds now.
    """
    now = utcnow()
    since = now - dt.timedelta(seconds=ttl_seconds)
    PC = PresenceConnection
    mine = dict(
        session.exec(select(PC.client_token, PC.user_id).where(PC.worker_id == worker_id)).all()
    )
    stale = dict(
        session.exec(select(PC.client_token, PC.user_id).where(col(PC.heartbeat_at) <= since)).all()
    )
    touched = set(mine.values()) | set(stale.values()) | set(connections.values())
    # Users with a stale row were last reported online (nobody has swept the row
    # yet), so count them as online before: sweeping them here reports them
    # offline exactly once. Without this a crashed worker's users stayed
    # "online" in every open tab.
    before = online_user_ids(session, touched, ttl_seconds) | set(stale.values())

    closed = [t for t in mine if t not in connections] + [t for t in stale if t not in connections]
    if closed:
        session.exec(sa.delete(PC).where(col(PC.client_token).in_(closed)))
    moved = [t for t in connections if t not in mine]
    if moved:  # a tab that reconnected here may still have a row from another worker
        session.exec(sa.delete(PC).where(col(PC.client_token).in_(moved)))
        session.add_all(
            PC(client_token=t, user_id=connections[t], worker_id=worker_id, heartbeat_at=now)
            for t in moved
        )
    session.exec(sa.update(PC).where(col(PC.worker_id) == worker_id).values(heartbeat_at=now))
    session.flush()
    after = online_user_ids(session, touched, ttl_seconds)
    changes = {uid: uid in after for uid in before ^ after}
    if changes:
        room_ids = session.exec(
            select(Membership.room_id).where(col(Membership.user_id).in_(list(changes))).distinct()
        ).all()
        publish_on_commit(
            session,
            events.Event(
                type=events.PRESENCE_CHANGED,
                data={
                    "changes": [{"user_id": u, "online": o} for u, o in changes.items()],
                    "room_ids": sorted(room_ids),
                },
            ),
        )
    session.commit()
    return changes
