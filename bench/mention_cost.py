"""``python -m bench.mention_cost [N]``: what 5 @mentions add to one send, in-process.

The server-side half of the mentions line (:mod:`bench.mentions`), without
sockets or fan-out, so it is far less noisy on a shared machine: on a fresh
PostgreSQL database with the mentions line's room (200 members), one member
sends ``N`` plain and ``N`` mentioning messages, alternated, each through
``messages.send_message`` in its own session and transaction (memory://
broker, nobody listening). A mentioning message names 5 members
(:class:`bench.mentions.MentionText`); it costs ``mentions.resolve`` (one
query for the named members) and one 5-row ``Mention`` insert more. Prints the
median and p90 milliseconds of each, and the difference.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import time
import uuid
from typing import Any

from sqlmodel import Session

from bench.__main__ import PG_ADMIN
from bench.mentions import MentionText
from bench.setup import Seeder
from bench.stats import make_body, percentile
from blabber import db
from blabber.services import messages
from blabber.settings import get_settings
from tests.support import appserver
from tests.support.pg import create_database, drop_database


def main(n: int = 300, members: int = 200) -> dict[str, Any]:
    """Time ``n`` sends of each kind; returns (and prints) the figures."""
    dbname = f"blabber_bench_mention_cost_{uuid.uuid4().hex[:6]}"
    url = create_database(PG_ADMIN, dbname)
    seeder = Seeder(url)
    engine = db.make_engine(url)
    try:
        appserver.migrate(url)
        users = seeder.ensure_users(members)
        room_id = seeder.room("mention-cost", [u[0] for u in users])
        sender_id, sender = users[0][0], users[0][1]
        text = MentionText([u[1] for u in users])
        settings = dataclasses.replace(get_settings(), message_burst=10**9)
        times: dict[str, list[float]] = {"plain": [], "mentions": []}
        for i in range(2 * n + 20):  # the first 20 warm the pool and caches
            kind = ("plain", "mentions")[i % 2]
            body = make_body(uuid.uuid4().hex, time.time_ns())
            if kind == "mentions":
                body = text.body(body, sender)
            with Session(engine) as session:
                t0 = time.perf_counter()
                messages.send_message(
                    session, sender_id, room_id, body, uuid.uuid4().hex, settings=settings
                )
                session.commit()
                ms = (time.perf_counter() - t0) * 1000
            if i >= 20:
                times[kind].append(ms)
        out: dict[str, Any] = {
            kind: {
                "median_ms": round(statistics.median(v), 2),
                "p90_ms": round(percentile(v, 90), 2),
            }
            for kind, v in times.items()
        }
        out["added_median_ms"] = round(out["mentions"]["median_ms"] - out["plain"]["median_ms"], 2)
        out["sends_each"] = n
        print(json.dumps(out))
        return out
    finally:
        engine.dispose()
        seeder.dispose()
        drop_database(PG_ADMIN, dbname)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
