"""``python -m bench.search [--messages N] [--backend sqlite|postgres|both]``: search at scale.

Issue 17's figures, in-process (no sockets: a search is one service call):

1. A fresh database at migration 0012 (no search index) gets ``N`` messages
   (default 1,000,000) over 200 rooms, from 100 authors, spread over the last
   365 days, in bulk. The text is drawn from a Zipf-distributed vocabulary
   of made-up words, so some words are in most messages and most words in
   few; a rare word is planted in 30 messages and the phrase "release
   notes" in 0.5 % of them.
2. ``alembic upgrade`` then runs migration 0013: the timed backfill of
   all ``N`` messages and, on PostgreSQL, the ``CONCURRENTLY`` GIN build; then
   the later ones to head, timed apart (0017 rebuilds SQLite's index with the
   files' names; on PostgreSQL it re-indexes only messages with files).
3. A user who is a member of 50 of the 200 rooms runs each query 40 times
   (after 5 warm-ups): a rare word, a common word, a phrase, and a filtered
   query (a common word ``from:`` one author ``after:`` a date 60 days ago);
   p50 / p95 milliseconds, and how many hits the first page had.
4. The index's size on disk, per million messages.
5. The write cost of the index: ``messages.send_message`` into a room of 10,
   in blocks of 25 with the index's triggers on, then off, alternated (6 blocks
   each), median and p99 milliseconds of each.

Prints one JSON line per backend; ``bench/RESULTS.md`` §14 has the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib.util
import io
import json
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from bench.setup import Seeder
from bench.stats import percentile
from blabber import db
from blabber.services import messages, search
from blabber.settings import get_settings
from tests.support.pg import create_database, drop_database

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ROOMS, MY_ROOMS, AUTHORS = 200, 50, 100
RARE, PHRASE_SHARE, RARE_COUNT = "quixotically", 0.005, 30
RUNS, WARM = 40, 5
PROJECT = Path(__file__).resolve().parent.parent


def vocabulary(size: int = 3000, seed: int = 7) -> list[str]:
    """Made-up pronounceable words (none a real English word's stem twin of another)."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def bodies(n: int, words: list[str], seed: int = 11):
    """``n`` message texts: Zipf words, the rare word 30 times, the phrase in 0.5 %."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(words))]
    cumulative = list(_accumulate(weights))
    rare_at = set(rng.sample(range(n), min(RARE_COUNT, n)))
    for i in range(n):
        text = rng.choices(words, cum_weights=cumulative, k=rng.randint(6, 20))
        if rng.random() < PHRASE_SHARE:
            text.insert(rng.randrange(len(text)), "release notes")
        if i in rare_at:
            text.append(RARE)
        yield " ".join(text)


def _accumulate(values: list[float]):
    total = 0.0
    for v in values:
        total += v
        yield total


def _alembic(url: str, target: str) -> float:
    from alembic.config import Config

    from alembic import command

    cfg = Config(str(PROJECT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", url)
    start = time.perf_counter()
    command.upgrade(cfg, target)
    return time.perf_counter() - start


def fill(engine: sa.Engine, seeder: Seeder, n: int) -> dict[str, Any]:
    """Users, rooms and ``n`` messages, in bulk; returns who searches and a filter's author."""
    users = seeder.ensure_users(AUTHORS + 1)
    searcher, authors = users[0], users[1:]
    rng = random.Random(3)
    room_ids = []
    for r in range(ROOMS):
        members = [a[0] for a in rng.sample(authors, 10)]
        if r < MY_ROOMS:
            members.append(searcher[0])
        room_ids.append(seeder.room(f"search-room-{r}", members))
    words = vocabulary()
    now = dt.datetime.now(dt.UTC)
    step = dt.timedelta(days=365) / max(n, 1)
    start = now - dt.timedelta(days=365)
    t0 = time.perf_counter()
    rows = (
        (rng.choice(room_ids), rng.choice(authors)[0], body, start + step * i)
        for i, body in enumerate(bodies(n, words))
    )
    if engine.dialect.name == "postgresql":
        _copy_pg(engine, rows)
    else:
        _insert_sqlite(engine, rows)
    return {
        "searcher": searcher[0],
        "author": authors[0][1],
        "common": words[0],
        "second": words[1],
        "fill_s": round(time.perf_counter() - t0, 1),
    }


def _copy_pg(engine: sa.Engine, rows) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        buffer = io.StringIO()
        for count, (room, author, body, at) in enumerate(rows, 1):
            buffer.write(f"{room}\t{author}\tuser\t{body}\t{at.isoformat()}\t0\n")
            if count % 100_000 == 0:
                _flush(cursor, buffer)
                buffer = io.StringIO()
        _flush(cursor, buffer)
        raw.commit()
    finally:
        raw.close()


def _flush(cursor, buffer: io.StringIO) -> None:
    buffer.seek(0)
    cursor.copy_expert(
        "COPY messages (room_id, author_id, kind, body, created_at, seq) FROM STDIN", buffer
    )


def _insert_sqlite(engine: sa.Engine, rows) -> None:
    statement = sa.text(
        "INSERT INTO messages (room_id, author_id, kind, body, created_at, seq) "
        "VALUES (:r, :a, 'user', :b, :t, 0)"
    )
    batch: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for room, author, body, at in rows:
            stamp = at.strftime("%Y-%m-%d %H:%M:%S.%f")  # as UTCDateTime stores it
            batch.append({"r": room, "a": author, "b": body, "t": stamp})
            if len(batch) == 50_000:
                conn.execute(statement, batch)
                batch = []
        if batch:
            conn.execute(statement, batch)


def timings(engine: sa.Engine, user_id: int, query: str, order: str = search.NEWEST) -> dict:
    """p50 / p95 ms of ``RUNS`` searches (after ``WARM``), and the first page's hit count."""
    times: list[float] = []
    hits = 0
    for i in range(WARM + RUNS):
        with Session(engine) as session:
            t0 = time.perf_counter()
            page = search.search(session, user_id, query, order=order)
            elapsed = (time.perf_counter() - t0) * 1000
        hits = len(page.hits)
        if i >= WARM:
            times.append(elapsed)
    return {
        "query": query,
        "order": order,
        "hits": hits,
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 95), 2),
    }


def sqlite_bytes(engine: sa.Engine) -> int:
    """The SQLite database's size, write-ahead log folded in."""
    with engine.connect() as conn:
        conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        pages = conn.execute(sa.text("PRAGMA page_count")).scalar_one()
        size = conn.execute(sa.text("PRAGMA page_size")).scalar_one()
    return int(pages) * int(size)


def index_bytes(engine: sa.Engine, before: int) -> int:
    """The search index's size: PostgreSQL's GIN index and tsvector column; SQLite's growth."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            gin = conn.execute(sa.text("SELECT pg_relation_size('ix_messages_search')")).scalar()
            column = conn.execute(
                sa.text("SELECT COALESCE(SUM(pg_column_size(search_vector)), 0) FROM messages")
            ).scalar()
        return int(gin or 0) + int(column or 0)
    return sqlite_bytes(engine) - before


def send_cost(engine: sa.Engine, seeder: Seeder, blocks: int = 6, size: int = 25) -> dict:
    """Send median / p99 ms with the index's triggers on and off, in alternated blocks."""
    users = seeder.ensure_users(AUTHORS + 1)[1:11]
    room_id = seeder.room(f"send-cost-{uuid.uuid4().hex[:6]}", [u[0] for u in users])
    settings = dataclasses.replace(get_settings(), message_burst=10**9)
    words = vocabulary()
    times: dict[str, list[float]] = {"with_index": [], "without_index": []}
    for block in range(2 * blocks + 2):  # the first two warm up
        kind = ("with_index", "without_index")[block % 2]
        switch_triggers(engine, on=kind == "with_index")
        for _ in range(size):
            body = " ".join(random.choices(words[:500], k=12))
            with Session(engine) as session:
                t0 = time.perf_counter()
                messages.send_message(
                    session, users[0][0], room_id, body, uuid.uuid4().hex, settings=settings
                )
                elapsed = (time.perf_counter() - t0) * 1000
            if block >= 2:
                times[kind].append(elapsed)
    switch_triggers(engine, on=True)
    return {
        kind: {
            "median_ms": round(statistics.median(v), 2),
            "p99_ms": round(percentile(v, 99), 2),
        }
        for kind, v in times.items()
    }


SQLITE_TRIGGERS = ("messages_fts_insert", "messages_fts_delete", "messages_fts_update")
# The migration that last made the SQLite index's triggers (0017: text and file names).
MIGRATION = PROJECT / "alembic" / "versions" / "20261207_0017_search_file_names.py"
INDEXED_COLUMNS = ("body", "file_names")


def _migration():
    """Migration 0017's module (its SQLite trigger statements, to switch them back on)."""
    spec = importlib.util.spec_from_file_location("migration_0017", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def switch_triggers(engine: sa.Engine, *, on: bool) -> None:
    """Switch the search index's triggers (the index itself stays)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            verb = "ENABLE" if on else "DISABLE"
            conn.execute(sa.text(f"ALTER TABLE messages {verb} TRIGGER messages_search_vector"))
            return
        if on:
            existing = {
                r[0]
                for r in conn.execute(
                    sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                )
            }
            for statement in _migration()._sqlite_index(INDEXED_COLUMNS)[1:]:  # [0]: the table
                name = statement.split()[2]
                if name not in existing:
                    conn.execute(sa.text(statement))
        else:
            for name in SQLITE_TRIGGERS:
                conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))


def run(backend: str, n: int) -> dict[str, Any]:
    """Build, migrate, measure one backend; returns its figures."""
    tmp = tempfile.TemporaryDirectory()
    path: Path | None = None
    if backend == "postgres":
        name = f"blabber_bench_search_{uuid.uuid4().hex[:6]}"
        url = create_database(PG_ADMIN, name)
    else:
        path = Path(tmp.name) / "search.db"
        url = f"sqlite:///{path}"
    try:
        _alembic(url, "0012_site_admin_invites")
        seeder = Seeder(url)
        engine = db.make_engine(url)
        facts = fill(engine, seeder, n)
        before = sqlite_bytes(engine) if backend == "sqlite" else 0
        engine.dispose()
        migrate_s = _alembic(url, "0013_message_search")
        # 0014 onwards; 0017 re-indexes every message on SQLite (file names join the text).
        later_s = _alembic(url, "head")
        if backend == "postgres":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))  # as autovacuum soon would: every table
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=60)).date().isoformat()
        me, common = facts["searcher"], facts["common"]
        queries = [
            timings(engine, me, RARE),
            timings(engine, me, common),
            timings(engine, me, '"release notes"'),
            timings(engine, me, f"{facts['second']} from:{facts['author']} after:{since}"),
            timings(engine, me, RARE, search.BEST),
            timings(engine, me, common, search.BEST),
        ]
        size = index_bytes(engine, before)
        result = {
            "backend": backend,
            "messages": n,
            "fill_s": facts["fill_s"],
            "migration_0013_s": round(migrate_s, 1),
            "migrations_0014_to_head_s": round(later_s, 1),
            "index_mb_per_million": round(size / 1e6 * 1e6 / max(n, 1), 1),
            "queries": queries,
            "send": send_cost(engine, seeder),
        }
        engine.dispose()
        seeder.dispose()
        return result
    finally:
        if backend == "postgres":
            drop_database(PG_ADMIN, name)
        tmp.cleanup()


def main() -> None:
    """Run the chosen backends, one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    for backend in backends:
        print(json.dumps(run(backend, args.messages)), flush=True)


if __name__ == "__main__":
    main()
