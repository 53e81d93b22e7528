"""The mentions line (issue 15): one room with and without ``@name``s, alternated.

One room of ``members`` people (200) at ``rate`` msg/s (5). Who is who:

* **Viewers** (the first ``members - away``, 150) have the room open. They
  are the **senders** (``runner.drive`` rotates through them) and the
  **measured recipients**: every viewer but the sender must list each
  message; latency p50/p99, losses and duplicates are theirs, counted by the
  same :class:`bench.stats.Ledger` as ``runner.fixed_rate``.
* **Away** members (the last ``away``, 50) belong to the room too but view a
  second room (of the away members only). The bench room's feed does not
  reach them; its unread counts and mention badges do, per tab
  (``events.UNREAD`` through ``Hub._count_unread``). At the end the scenario
  checks each away tab's mention badge for the room against the mentions
  the generator made, and the stored ``mentions`` rows against both.

Variant ``plain`` sends bench bodies; variant ``mentions`` appends
``per_message`` (5) distinct ``@username``s of room members, viewers and
away alike, never the sender (:class:`MentionText`). The variants alternate
on the same tabs (plain, mentions, plain, mentions, ...) so the machine's
noise falls on both alike; the issue's figure is p99(mentions) / p99(plain)
of all rounds pooled, and each pair's ratio shows the noise.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from bench import runner
from bench.client import SimClient
from bench.stats import Ledger, Summary
from blabber.models import Mention, User

VARIANTS = ("plain", "mentions")
BADGE_WAIT_S = 8.0  # unread counts reach a tab at most every 2 s (realtime/unread.py)


class MentionText:
    """``per_message`` distinct ``@name``s per message, rotating through ``names``.

    One cursor walks all members in order, so every member is named about
    equally often; the sender is skipped (a message naming its own author
    notifies nobody). ``counts`` is how often each name was used.
    """

    def __init__(self, names: Sequence[str], per_message: int = 5) -> None:
        if len(set(names)) != len(names) or len(names) <= per_message:
            raise ValueError("need more distinct names than mentions per message")
        self.names = list(names)
        self.per_message = per_message
        self.cursor = 0
        self.counts: Counter[str] = Counter()

    def pick(self, sender: str) -> list[str]:
        """The next names for a message by ``sender``."""
        picked: list[str] = []
        while len(picked) < self.per_message:
            name = self.names[self.cursor % len(self.names)]
            self.cursor += 1
            if name != sender and name not in picked:
                picked.append(name)
        self.counts.update(picked)
        return picked

    def body(self, base: str, sender: str) -> str:
        """``base`` (the bench key and send time) followed by the mentions."""
        return base + " " + " ".join(f"@{n}" for n in self.pick(sender))


def pooled(ledgers: list[Ledger], wall_s: float) -> Summary:
    """One summary of several rounds' ledgers (keys are unique per send)."""
    merged = Ledger()
    for ledger in ledgers:
        merged.sent.update(ledger.sent)
        merged.arrivals.update(ledger.arrivals)
        for pair, n in ledger.duplicates.items():
            merged.duplicates[pair] += n
    return merged.summary(wall_s)


def _stored_mentions(target: runner.Target, room_id: int) -> Counter[str]:
    """``mentions`` rows of the room, by username."""
    assert target.seeder is not None
    m, u = Mention.__table__, User.__table__  # type: ignore[attr-defined]
    with target.seeder.engine.connect() as conn:
        rows = conn.execute(
            sa.select(u.c.username, sa.func.count())
            .select_from(m.join(u, u.c.id == m.c.user_id))
            .where(m.c.room_id == room_id)
            .group_by(u.c.username)
        ).all()
    return Counter({name: n for name, n in rows})


def _badge(tab: SimClient, room_id: int) -> int:
    """The mention badge a tab's sidebar shows for ``room_id``."""
    rooms = tab.chat.get("rooms_rx_state_") or []
    return next((int(r.get("mentions", 0)) for r in rooms if r.get("id") == room_id), 0)


async def mentions_ab(
    target: runner.Target,
    *,
    members: int = 200,
    away: int = 50,
    rate: float = 5,
    per_message: int = 5,
    duration: float = 8,
    rounds: int = 2,
    typing_every: int = 5,
) -> dict[str, Any]:
    """Plain and mentioning messages alternated, ``rounds`` each, on the same tabs."""
    assert target.seeder is not None, "the mentions scenario needs a Blabber server"
    name, users = target.new_room(members)
    viewer_users, away_users = users[: members - away], users[members - away :]
    other = f"{name}-away"
    target.seeder.room(other, [u[0] for u in away_users])
    room_id = runner._room_id(target.seeder, name)
    viewers, connect_s = await runner.open_clients(target, name, viewer_users, Ledger())
    away_tabs, away_connect_s = await runner.open_clients(
        target, other, away_users, Ledger(), offset=len(viewer_users)
    )
    username = {c.index: u[1] for c, u in zip(viewers, viewer_users, strict=True)}
    text = MentionText([u[1] for u in users], per_message)

    def mentioning(sender: SimClient, body: str) -> str:
        return text.body(body, username[sender.index])

    try:
        await runner.warm_up([viewers])
        done: list[dict[str, Any]] = []
        kept: dict[str, list[tuple[Ledger, float, float, float]]] = {v: [] for v in VARIANTS}
        for r in range(rounds):
            for variant in VARIANTS:
                ledger = Ledger()
                for c in viewers:
                    c.view.ledger = ledger  # type: ignore[union-attr]
                cpu0, t0 = target.probe.cpu_seconds(), time.perf_counter()
                wall, usage = await runner.measured(
                    target,
                    runner.drive(
                        [viewers],
                        ledger,
                        rate,
                        duration,
                        typing_every=typing_every,
                        text=mentioning if variant == "mentions" else None,
                    ),
                )
                cpu_s, spent = target.probe.cpu_seconds() - cpu0, time.perf_counter() - t0
                kept[variant].append((ledger, wall, cpu_s, spent))
                row = {"variant": variant, "round": r + 1, **ledger.summary(wall).as_dict()}
                done.append({**row, **usage, "server_cpu_s": round(cpu_s, 2)})
        badges = await _check_badges(target, room_id, away_tabs, away_users, text)
        variants = {}
        for variant, runs in kept.items():
            cpu_s = sum(k[2] for k in runs)
            variants[variant] = {
                **pooled([k[0] for k in runs], sum(k[1] for k in runs)).as_dict(),
                "server_cpu_s": round(cpu_s, 2),
                "server_cpu_cores": round(cpu_s / sum(k[3] for k in runs), 2),
                "round_p99_ms": [d["p99_ms"] for d in done if d["variant"] == variant],
            }
        plain_p99, mention_p99 = variants["plain"]["p99_ms"], variants["mentions"]["p99_ms"]
        return {
            "scenario": f"mentions 1x{members} ({away} away) {rate:g} msg/s "
            f"{per_message} @/msg {rounds}x{duration:g} s each",
            "members": members,
            "away": away,
            "rate": rate,
            "per_message": per_message,
            "rounds": done,
            "variants": variants,
            "p99_ratio": round(mention_p99 / plain_p99, 2) if plain_p99 else None,
            "pair_p99_ratios": [
                round(b["p99_ms"] / a["p99_ms"], 2) if a["p99_ms"] else None
                for a, b in zip(done[::2], done[1::2], strict=True)
            ],
            "lost": sum(d["lost"] for d in done),
            "duplicated": sum(d["duplicated"] for d in done),
            "connect_s": round(connect_s + away_connect_s, 2),
            **badges,
        }
    finally:
        await runner.close_all(viewers)
        await runner.close_all(away_tabs)


async def _check_badges(
    target: runner.Target,
    room_id: int,
    away_tabs: list[SimClient],
    away_users: list[tuple[int, str, str]],
    text: MentionText,
) -> dict[str, Any]:
    """Mentions made vs stored vs badged on the away tabs (waits for the unread flush)."""
    stored = _stored_mentions(target, room_id)
    want = {c.index: text.counts[u[1]] for c, u in zip(away_tabs, away_users, strict=True)}
    deadline = time.perf_counter() + BADGE_WAIT_S
    while time.perf_counter() < deadline:
        if all(_badge(c, room_id) == want[c.index] for c in away_tabs):
            break
        await asyncio.sleep(0.25)
    right = sum(_badge(c, room_id) == want[c.index] for c in away_tabs)
    return {
        "mentions_made": sum(text.counts.values()),
        "mentions_stored": sum(stored.values()),
        "mentions_stored_match": stored == text.counts,
        "away_mentions_expected": sum(want.values()),
        "away_mentions_badged": sum(_badge(c, room_id) for c in away_tabs),
        "away_tabs_badge_right": f"{right}/{len(away_tabs)}",
    }


def table_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per variant for ``bench.__main__.table`` (notes: rounds, ratio, badges).

    Also for :mod:`bench.search_index`, whose result has the same shape.
    """
    if "variants" not in result:
        return [result]
    rows = []
    for variant, figures in result["variants"].items():
        notes: dict[str, Any] = {
            "round_p99_ms": figures.get("round_p99_ms"),
            "server_cpu_s": figures.get("server_cpu_s"),
        }
        if variant in ("index_on", "searching"):  # bench.search_index: the same A/B shape
            notes |= {
                "p99_ratio": result["p99_ratio"],
                "pair_p99_ratios": result["pair_p99_ratios"],
            }
        if variant == "mentions":
            notes |= {
                "p99_ratio": result["p99_ratio"],
                "pair_p99_ratios": result["pair_p99_ratios"],
                "stored_match": result["mentions_stored_match"],
                "away_badges": f"{result['away_mentions_badged']}/"
                f"{result['away_mentions_expected']}",
            }
        rows.append(
            {
                **figures,
                "kind": result["kind"],
                "target": result["target"],
                "scenario": f"{result['scenario']}: {variant}",
                "notes": notes,
            }
        )
    return rows
