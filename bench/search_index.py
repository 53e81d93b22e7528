"""Search's cost on chat (issue 17): 100 x 10 with the index on and off, and while searching.

One room of ``members`` (100) at ``rate`` msg/s (10), the bench's
``fixed`` scenario, in rounds that alternate on the same tabs between the
search index's triggers switched **on** (every send also indexes its text,
as shipped) and **off** (the same schema, nothing indexed), so the
machine's noise falls on both alike. The figure is p99(on) / p99(off) of
all rounds pooled (target within 1.1x); each pair's ratio shows the noise.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import runner
from bench.mentions import pooled
from bench.search import switch_triggers
from bench.stats import Ledger

VARIANTS = ("index_on", "index_off")


async def search_index_ab(
    target: runner.Target,
    *,
    members: int = 100,
    rate: float = 10,
    duration: float = 8,
    rounds: int = 3,
) -> dict[str, Any]:
    """Rounds with the index's triggers on and off, alternated, on the same tabs."""
    assert target.seeder is not None, "the search-index scenario needs a Blabber server"
    engine = target.seeder.engine
    name, users = target.new_room(members)
    clients, connect_s = await runner.open_clients(target, name, users, Ledger())
    try:
        await runner.warm_up([clients])
        done: list[dict[str, Any]] = []
        kept: dict[str, list[tuple[Ledger, float]]] = {v: [] for v in VARIANTS}
        for r in range(rounds):
            for variant in VARIANTS:
                switch_triggers(engine, on=variant == "index_on")
                ledger = Ledger()
                for c in clients:
                    c.view.ledger = ledger  # type: ignore[union-attr]
                t0 = time.perf_counter()
                wall, usage = await runner.measured(
                    target, runner.drive([clients], ledger, rate, duration)
                )
                kept[variant].append((ledger, wall))
                row = {"variant": variant, "round": r + 1, **ledger.summary(wall).as_dict()}
                done.append({**row, **usage, "spent_s": round(time.perf_counter() - t0, 1)})
        switch_triggers(engine, on=True)
        variants = {
            v: {
                **pooled([k[0] for k in runs], sum(k[1] for k in runs)).as_dict(),
                "round_p99_ms": [d["p99_ms"] for d in done if d["variant"] == v],
            }
            for v, runs in kept.items()
        }
        on_p99, off_p99 = variants["index_on"]["p99_ms"], variants["index_off"]["p99_ms"]
        return {
            "scenario": f"search index on/off 1x{members} {rate:g} msg/s {rounds}x{duration:g} s",
            "rounds": done,
            "variants": variants,
            "p99_ratio": round(on_p99 / off_p99, 2) if off_p99 else None,
            "pair_p99_ratios": [
                round(a["p99_ms"] / b["p99_ms"], 2) if b["p99_ms"] else None
                for a, b in zip(done[::2], done[1::2], strict=True)
            ],
            "lost": sum(d["lost"] for d in done),
            "duplicated": sum(d["duplicated"] for d in done),
            "connect_s": round(connect_s, 2),
        }
    finally:
        switch_triggers(engine, on=True)
        await runner.close_all(clients)


SEARCH_STATE = "blabber___state___search____search_state"
SEARCHES = ("history", "history message", '"history message 77"', "message -nothing")


async def searching_ab(
    target: runner.Target,
    *,
    members: int = 100,
    rate: float = 10,
    duration: float = 8,
    rounds: int = 3,
    searchers: int = 5,
    every_s: float = 1.0,
    history: int = 100_000,
) -> dict[str, Any]:
    """The 100 x 10 scenario, quiet and with ``searchers`` tabs searching, alternated.

    The searchers are members of a room of their own with ``history``
    messages, and each submits ``Search messages`` every ``every_s`` (5 tabs
    at 1 s, every other one then switched to Best match: 7.5 searches a
    second through the app's own workers, more than a team of hundreds), cycling
    through a common word, two words, a phrase and an exclusion, newest
    first and best match alternately.
    """
    assert target.seeder is not None, "the searching scenario needs a Blabber server"
    name, users = target.new_room(members)
    clients, connect_s = await runner.open_clients(target, name, users, Ledger())
    extra = target.seeder.ensure_users(members + searchers)[members:]
    library = f"{name}-library"
    library_id = target.seeder.room(library, [u[0] for u in extra])
    target.seeder.history(library_id, extra[0][0], history)
    tabs, _ = await runner.open_clients(target, library, extra, Ledger(), offset=members)
    event = f"{tabs[0].proto.chat_state}.{SEARCH_STATE}.search_messages"
    order_event = f"{tabs[0].proto.chat_state}.{SEARCH_STATE}.order_results"
    searched = 0

    async def keep_searching(tab, stop: asyncio.Event) -> None:
        nonlocal searched
        i = 0
        while not stop.is_set():
            await tab.emit(event, {"form_data": {"query": SEARCHES[i % len(SEARCHES)]}})
            if i % 2:
                await tab.emit(order_event, {"order": "best"})
            searched += 1
            i += 1
            await asyncio.sleep(every_s)

    try:
        await runner.warm_up([clients])
        done: list[dict[str, Any]] = []
        kept: dict[str, list[tuple[Ledger, float]]] = {"quiet": [], "searching": []}
        for r in range(rounds):
            for variant in ("quiet", "searching"):
                stop = asyncio.Event()
                loops = (
                    [asyncio.create_task(keep_searching(t, stop)) for t in tabs]
                    if variant == "searching"
                    else []
                )
                ledger = Ledger()
                for c in clients:
                    c.view.ledger = ledger  # type: ignore[union-attr]
                wall, usage = await runner.measured(
                    target, runner.drive([clients], ledger, rate, duration)
                )
                stop.set()
                await asyncio.gather(*loops, return_exceptions=True)
                kept[variant].append((ledger, wall))
                row = {"variant": variant, "round": r + 1, **ledger.summary(wall).as_dict()}
                done.append({**row, **usage})
        variants = {
            v: {
                **pooled([k[0] for k in runs], sum(k[1] for k in runs)).as_dict(),
                "round_p99_ms": [d["p99_ms"] for d in done if d["variant"] == v],
            }
            for v, runs in kept.items()
        }
        quiet, busy = variants["quiet"]["p99_ms"], variants["searching"]["p99_ms"]
        return {
            "scenario": f"searching {searchers} tabs / {every_s:g} s vs quiet, "
            f"1x{members} {rate:g} msg/s {rounds}x{duration:g} s",
            "rounds": done,
            "variants": variants,
            "p99_ratio": round(busy / quiet, 2) if quiet else None,
            "pair_p99_ratios": [
                round(b["p99_ms"] / a["p99_ms"], 2) if a["p99_ms"] else None
                for a, b in zip(done[::2], done[1::2], strict=True)
            ],
            "searches": searched,
            "lost": sum(d["lost"] for d in done),
            "duplicated": sum(d["duplicated"] for d in done),
            "connect_s": round(connect_s, 2),
        }
    finally:
        await runner.close_all(clients)
        await runner.close_all(tabs)
