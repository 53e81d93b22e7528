"""Delivery accounting: what was sent, what each client saw, and when.

Kept free of sockets and servers so the accounting itself is unit-tested
(``tests/test_bench_loadgen.py``) with injected records: a benchmark whose
loss/duplicate counter is wrong is worse than none.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Iterable


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclasses.dataclass
class Sent:
    """One message sent: its key, send time and the clients that should see it."""

    key: str
    sent_ns: int
    recipients: frozenset[int]


@dataclasses.dataclass
class Summary:
    """Latency and integrity figures of one run (milliseconds, counts, per second)."""

    messages: int
    expected: int
    delivered: int
    lost: int
    duplicated: int
    unexpected: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    all_delivered_p50_ms: float
    all_delivered_p99_ms: float
    deliveries_per_s: float
    duration_s: float

    def as_dict(self) -> dict:
        """JSON-ready figures, rounded for humans."""
        return {
            k: (round(v, 2) if isinstance(v, float) and math.isfinite(v) else v)
            for k, v in dataclasses.asdict(self).items()
        }


class Ledger:
    """Sent messages and per-client arrivals; computes latency, loss and duplicates.

    A *delivery* is the first time a client sees a message key. Seeing the
    same key again under another message id, or twice in one list, is a
    *duplicate* (the user would see the message twice). An expected
    (message, client) pair never seen is *lost*.
    """

    def __init__(self) -> None:
        self.sent: dict[str, Sent] = {}
        self.arrivals: dict[tuple[str, int], int] = {}
        self.duplicates: dict[tuple[str, int], int] = defaultdict(int)
        self.unexpected = 0

    def record_sent(self, key: str, sent_ns: int, recipients: Iterable[int]) -> None:
        """A message left a sender at ``sent_ns`` for ``recipients`` (client indexes)."""
        self.sent[key] = Sent(key, sent_ns, frozenset(recipients))

    def record_arrival(self, key: str, client: int, recv_ns: int) -> None:
        """Client ``client`` saw ``key`` for the first time at ``recv_ns``."""
        pair = (key, client)
        if pair in self.arrivals:
            self.duplicates[pair] += 1
        else:
            self.arrivals[pair] = recv_ns

    def record_duplicate(self, key: str, client: int) -> None:
        """Client ``client`` shows ``key`` more than once."""
        self.duplicates[(key, client)] += 1

    def summary(self, duration_s: float) -> Summary:
        """Figures over everything recorded so far."""
        latencies: list[float] = []
        per_message_max: list[float] = []
        expected = delivered = lost = 0
        for sent in self.sent.values():
            worst = 0.0
            complete = True
            for client in sent.recipients:
                expected += 1
                recv = self.arrivals.get((sent.key, client))
                if recv is None:
                    lost += 1
                    complete = False
                    continue
                delivered += 1
                ms = (recv - sent.sent_ns) / 1e6
                latencies.append(ms)
                worst = max(worst, ms)
            if complete and sent.recipients:
                per_message_max.append(worst)
        # The sender's own echo is not a delivery; a key nobody sent is.
        unexpected = sum(1 for key, _client in self.arrivals if key not in self.sent)
        return Summary(
            messages=len(self.sent),
            expected=expected,
            delivered=delivered,
            lost=lost,
            duplicated=sum(self.duplicates.values()),
            unexpected=unexpected,
            p50_ms=percentile(latencies, 50),
            p95_ms=percentile(latencies, 95),
            p99_ms=percentile(latencies, 99),
            max_ms=max(latencies) if latencies else math.nan,
            all_delivered_p50_ms=percentile(per_message_max, 50),
            all_delivered_p99_ms=percentile(per_message_max, 99),
            deliveries_per_s=delivered / duration_s if duration_s > 0 else 0.0,
            duration_s=duration_s,
        )


class ClientView:
    """What one simulated client has seen: turns each ``messages`` list into arrivals.

    The server re-sends the whole message window in every delta, so arrival
    is the first delta whose list contains a key; a key present under two
    message ids, or twice in one list, is a duplicate.
    """

    def __init__(self, index: int, ledger: Ledger) -> None:
        self.index = index
        self.ledger = ledger
        self.seen_ids: dict[str, int] = {}

    def on_messages(self, messages: list[dict], recv_ns: int) -> None:
        """Account one received ``messages`` list."""
        in_list: set[str] = set()
        for msg in messages:
            key = bench_key(str(msg.get("body", "")))
            if key is None:
                continue
            mid = msg.get("id")
            if key in in_list:
                self.ledger.record_duplicate(key, self.index)
                continue
            in_list.add(key)
            known = self.seen_ids.get(key)
            if known is None:
                self.seen_ids[key] = mid if isinstance(mid, int) else -1
                self.ledger.record_arrival(key, self.index, recv_ns)
            elif known != mid:
                self.seen_ids[key] = mid if isinstance(mid, int) else -1
                self.ledger.record_duplicate(key, self.index)


def make_body(key: str, sent_ns: int, pad: int = 0) -> str:
    """A message body carrying its key and send time (clients share this machine's clock)."""
    return f"bench {key} {sent_ns}" + (" " + "x" * pad if pad else "")


def bench_key(body: str) -> str | None:
    """The key of a bench message body, or None for anything else."""
    if not body.startswith("bench "):
        return None
    parts = body.split(" ", 3)
    return parts[1] if len(parts) >= 3 else None
