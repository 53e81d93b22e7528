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
from collections.abc import Awaitable, Callable
from typing import Any

from bench import runner
from bench.client import SimClient
from bench.mentions import pooled
from bench.search import switch_triggers
from bench.stats import Ledger

VARIANTS = ("index_on", "index_off")
SEARCH_STATE = "blabber___state___search____search_state"
SEARCHES = ("history", "history message", '"history message 77"', "message -nothing")

# What a round needs before it runs (given its variant): nothing, or a
# coroutine function that undoes it once the round is measured.
Setup = Callable[[str], Awaitable[Callable[[], Awaitable[None]] | None]]


async def _alternated(
    target: runner.Target,
    clients: list[SimClient],
    variants: tuple[str, str],
    setup: Setup,
    *,
    rate: float,
    duration: float,
    rounds: int,
) -> dict[str, Any]:
    """``rounds`` of each variant, alternated on the same tabs; pooled figures and ratios.

    The ratio is p99 of ``variants[0]`` over ``variants[1]`` (the feature
    over its absence), pooled over all rounds; each pair's ratio shows the noise.
    """
    await runner.warm_up([clients])
    done: list[dict[str, Any]] = []
    kept: dict[str, list[tuple[Ledger, float]]] = {v: [] for v in variants}
    for r in range(rounds):
        for variant in variants:
            undo = await setup(variant)
            ledger = Ledger()
            for c in clients:
                c.view.ledger = ledger  # type: ignore[union-attr]
            wall, usage = await runner.measured(
                target, runner.drive([clients], ledger, rate, duration)
            )
            if undo is not None:
                await undo()
            kept[variant].append((ledger, wall))
            row = {"variant": variant, "round": r + 1, **ledger.summary(wall).as_dict()}
            done.append({**row, **usage})
    pooled_by = {
        v: {
            **pooled([k[0] for k in runs], sum(k[1] for k in runs)).as_dict(),
            "round_p99_ms": [d["p99_ms"] for d in done if d["variant"] == v],
        }
        for v, runs in kept.items()
    }
    first, second = (pooled_by[v]["p99_ms"] for v in variants)
    by_round = {v: [d for d in done if d["variant"] == v] for v in variants}
    return {
        "rounds": done,
        "variants": pooled_by,
        "p99_ratio": round(first / second, 2) if second else None,
        "pair_p99_ratios": [
            round(a["p99_ms"] / b["p99_ms"], 2) if b["p99_ms"] else None
            for a, b in zip(by_round[variants[0]], by_round[variants[1]], strict=True)
        ],
        "lost": sum(d["lost"] for d in done),
        "duplicated": sum(d["duplicated"] for d in done),
    }


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

    async def triggers(variant: str) -> None:
        switch_triggers(engine, on=variant == "index_on")

    try:
        result = await _alternated(
            target, clients, VARIANTS, triggers, rate=rate, duration=duration, rounds=rounds
        )
    finally:
        switch_triggers(engine, on=True)
        await runner.close_all(clients)
    return {
        "scenario": f"search index on/off 1x{members} {rate:g} msg/s {rounds}x{duration:g} s",
        **result,
        "connect_s": round(connect_s, 2),
    }


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
    """The 100 x 10 scenario while ``searchers`` tabs search, and quiet, alternated.

    The searchers are members of a room of their own with ``history``
    messages, and each submits ``Search messages`` every ``every_s`` (5 tabs
    at 1 s, every other one then switched to Best match: 7.5 searches a
    second through the app's own workers, more than a team of hundreds), cycling
    through a common word, two words, a phrase and an exclusion.
    """
    assert target.seeder is not None, "the searching scenario needs a Blabber server"
    name, users = target.new_room(members)
    clients, connect_s = await runner.open_clients(target, name, users, Ledger())
    extra = target.seeder.ensure_users(members + searchers)[members:]
    library = f"{name}-library"
    library_id = target.seeder.room(library, [u[0] for u in extra])
    target.seeder.history(library_id, extra[0][0], history)
    tabs, _ = await runner.open_clients(target, library, extra, Ledger(), offset=members)
    prefix = f"{tabs[0].proto.chat_state}.{SEARCH_STATE}"
    searched = 0

    async def keep_searching(tab: SimClient, stop: asyncio.Event) -> None:
        nonlocal searched
        i = 0
        while not stop.is_set():
            await tab.emit(f"{prefix}.search_messages", {"form_data": {"query": SEARCHES[i % 4]}})
            if i % 2:
                await tab.emit(f"{prefix}.order_results", {"order": "best"})
            searched += 1
            i += 1
            await asyncio.sleep(every_s)

    async def searching(variant: str) -> Callable[[], Awaitable[None]] | None:
        if variant != "searching":
            return None
        stop = asyncio.Event()
        loops = [asyncio.create_task(keep_searching(t, stop)) for t in tabs]

        async def stop_searching() -> None:
            stop.set()
            await asyncio.gather(*loops, return_exceptions=True)

        return stop_searching

    try:
        result = await _alternated(
            target,
            clients,
            ("searching", "quiet"),
            searching,
            rate=rate,
            duration=duration,
            rounds=rounds,
        )
    finally:
        await runner.close_all(clients)
        await runner.close_all(tabs)
    return {
        "scenario": f"searching {searchers} tabs / {every_s:g} s vs quiet, "
        f"1x{members} {rate:g} msg/s {rounds}x{duration:g} s",
        **result,
        "searches": searched,
        "connect_s": round(connect_s, 2),
    }
