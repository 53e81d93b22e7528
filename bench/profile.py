"""``python -m bench.profile [ROOMS MEMBERS RATE]``: py-spy the workers during a fixed run.

Defaults to one room of 100 members at 10 msg/s; ``python -m bench.profile
10 100 20`` profiles ten rooms of 100 (distinct people) at 20 msg/s in total. Honours
``BENCH_SERVER_ENV`` (see ``bench_env``).

Writes collapsed stacks per worker to ``bench/results/profile-<pid>.txt``
and prints the functions holding the most samples (self and inclusive), to
say where the time of a delivery goes.
"""

from __future__ import annotations

import asyncio
import collections
import subprocess
import sys
from pathlib import Path

from bench import runner
from bench.__main__ import pg_redis_server, web_dir
from bench.client import Protocol

ROOT = Path(__file__).resolve().parents[1]
PY_SPY = Path(sys.executable).parent / "py-spy"


def top(path: Path, n: int = 25) -> str:
    """Inclusive sample share of the busiest frames in a collapsed-stack file."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        c = int(count)
        total += c
        for frame in set(stack.split(";")):
            inclusive[frame] += c
    lines = [f"{path.name}: {total} samples"]
    for frame, c in inclusive.most_common(n):
        lines.append(f"  {100 * c / max(1, total):5.1f}%  {frame[:150]}")
    return "\n".join(lines)


async def drive(
    target: runner.Target,
    pids: list[int],
    seconds: float,
    rooms: int = 1,
    members: int = 100,
    rate: float = 10,
) -> list[Path]:
    """Open the rooms, start py-spy on each worker, send ``rate`` msg/s in total."""
    from bench.stats import Ledger

    ledger = Ledger()
    all_rooms = []
    for r in range(rooms):
        name, users = target.new_room(members, first_user=r * members)
        clients, _ = await runner.open_clients(target, name, users, ledger, offset=r * members)
        all_rooms.append(clients)
    await runner.warm_up(all_rooms)
    outs = [ROOT / "bench" / "results" / f"profile-{pid}.txt" for pid in pids]
    spies = [
        subprocess.Popen(
            [
                str(PY_SPY),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                "50",
                "--format",
                "raw",
                "--output",
                str(out),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid, out in zip(pids, outs, strict=True)
    ]
    await runner.drive(all_rooms, ledger, rate, seconds)
    for spy in spies:
        spy.wait(60)
    print(ledger.summary(seconds).as_dict())
    for clients in all_rooms:
        await runner.close_all(clients)
    return outs


def main() -> None:
    """Profile the production configuration."""
    web = web_dir()
    env = {"REFLEX_OPLOCK_ENABLED": "1"}
    with pg_redis_server(web, "blabber_bench_profile", env, "bench-profile") as (server, seeder):
        target = runner.Target(
            "pg-redis", server.url, server.proc.pid, Protocol.from_web_dir(web), seeder
        )
        pids = [p.pid for p in server.worker_processes()]
        shape = [float(a) for a in sys.argv[1:4]]
        rooms, members, rate = (int(shape[0]), int(shape[1]), shape[2]) if shape else (1, 100, 10)
        for out in asyncio.run(drive(target, pids, 10, rooms, members, rate)):
            if out.exists():
                print(top(out))


if __name__ == "__main__":
    main()
