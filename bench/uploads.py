"""``python -m bench.uploads``: files' cost (issue 18), on local disk and on S3.

For each storage backend (``local``: ``file://`` in a temporary directory,
the shipped default; ``s3``: moto's S3 server, as the tests start it) this
starts the production configuration (PostgreSQL + Redis, two Uvicorn
workers) and measures through ``POST /api/files``, as the page's script
sends a file:

- **throughput**: one 20 MB file at a time, as fast as loopback carries it,
  the median of ``--repeat`` (5);
- **memory**: each worker's RSS, sampled every 50 ms, while ten 20 MB files
  upload at once, and while one 100 MB file does (the figure is the largest
  rise of any one process over its level just before; a worker that held the
  files would rise by ~200 / 100 MB; this server takes files up to 110 MB);
- **chat while uploading** (local only unless ``--ab-everywhere``): the
  100 x 10 scenario alternated on the same tabs between quiet rounds and
  rounds during which 10 people each send 20 MB files back to back and one
  more sends a 12-megapixel photo every 1.5 s (a thumbnail to make). Each
  ``--pace`` is one such A/B: 4 MB/s per person (a 32 Mbit/s uplink; the
  ten start at random within one file's time), then unthrottled (loopback,
  ~200 MB/s in all: a stress, more than a small team's server link). The
  uploads come from a separate process; the uploaders sit in a room of their
  own and stay under the 60 uploads a minute each may make.

The files are random bytes (sniffed as ``application/octet-stream``, so no
image work) except the photo. Prints one JSON line per backend;
``bench/RESULTS.md`` §15 has the table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from bench import runner, search_index
from bench.__main__ import ROOT, pg_redis_server, web_dir
from bench.client import Protocol
from bench.setup import Seeder
from bench.stats import Ledger
from blabber.session_cookie import COOKIE_NAME
from tests.support import appserver
from tests.support.s3 import running_s3

MB = 1_000_000
FILE_BYTES = 20 * MB
UPLOADERS = 10
# One file of 100 MB shows that a worker does not hold an upload in memory; the
# bench's server takes files up to 110 MB for it (the shipped limit is 25).
BIG_BYTES = 100 * MB
BENCH_LIMIT = {"BLABBER_UPLOAD_MAX_MB": "110"}


def photo_bytes() -> bytes:
    """A 4000 x 3000 JPEG of noise-free gradients (~1-2 MB), as a phone would send."""
    from PIL import Image

    image = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


class Uploader:
    """Sends files to one server as one signed-in person, over its own HTTP session."""

    def __init__(self, base: str, token: str, room_id: int) -> None:
        self.url = f"{base}/api/files?room={room_id}"
        self.headers = {
            "Cookie": f"{COOKIE_NAME}={token}",
            "Origin": base,
            "content-type": "application/octet-stream",
        }
        self.refused: dict[int, int] = {}  # status -> count, for anything but 200

    async def send(
        self, http: aiohttp.ClientSession, data: bytes, name: str, mb_per_s: float = 0
    ) -> float:
        """Upload ``data`` (at most ``mb_per_s``; 0: as fast as it goes); seconds taken.

        Raises on anything but 200.
        """
        start = time.perf_counter()
        headers = {**self.headers, "x-file-name": name, "content-length": str(len(data))}
        body = data if not mb_per_s else _paced(data, mb_per_s)
        async with http.post(self.url, data=body, headers=headers) as r:
            await r.read()
            if r.status != 200:
                self.refused[r.status] = self.refused.get(r.status, 0) + 1
                raise RuntimeError(f"upload refused: {r.status}")
        return time.perf_counter() - start


async def _paced(data: bytes, mb_per_s: float) -> AsyncIterator[bytes]:
    """``data`` in 256 KB pieces, no faster than ``mb_per_s`` (a person's uplink)."""
    piece = 256_000
    start = time.perf_counter()
    for offset in range(0, len(data), piece):
        due = start + offset / (mb_per_s * MB)
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        yield data[offset : offset + piece]


class RssSampler:
    """Samples every process of a server's tree every 50 ms; the largest rise of one."""

    def __init__(self, pid: int) -> None:
        self.probe = runner.ServerProbe(pid)
        self.before: dict[int, int] = {}
        self.peak: dict[int, int] = {}

    def _sample(self) -> dict[int, int]:
        out = {}
        for p in self.probe.procs():
            with contextlib.suppress(psutil.Error):
                out[p.pid] = p.memory_info().rss
        return out

    async def run(self, stop: asyncio.Event) -> None:
        """Sample until ``stop`` is set."""
        self.before = self._sample()
        self.peak = dict(self.before)
        while not stop.is_set():
            for pid, rss in self._sample().items():
                self.peak[pid] = max(self.peak.get(pid, 0), rss)
            await asyncio.sleep(0.05)

    def figures(self) -> dict[str, Any]:
        """Per-process level before and peak during, in MB; the largest rise."""
        rises = {pid: self.peak[pid] - self.before.get(pid, self.peak[pid]) for pid in self.peak}
        return {
            "rss_before_mb": {p: round(v / MB, 1) for p, v in self.before.items()},
            "rss_peak_mb": {p: round(v / MB, 1) for p, v in self.peak.items()},
            "largest_rise_mb": round(max(rises.values(), default=0) / MB, 1),
        }


async def throughput(uploader: Uploader, data: bytes, repeat: int) -> dict[str, Any]:
    """One file at a time, ``repeat`` times: MB/s of each, and the median."""
    async with aiohttp.ClientSession() as http:
        await uploader.send(http, b"warm-up", "warm.bin")
        seconds = [await uploader.send(http, data, f"big-{i}.bin") for i in range(repeat)]
    rates = [round(len(data) / MB / s, 1) for s in seconds]
    return {"mb_per_s": rates, "median_mb_per_s": statistics.median(rates)}


async def concurrent(uploaders: list[Uploader], data: bytes, pid: int) -> dict[str, Any]:
    """Files at once (one per person) with every worker's RSS sampled."""
    sampler = RssSampler(pid)
    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop))
    await asyncio.sleep(0.3)  # the "before" level settles into the sample
    start = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(u.send(http, data, f"c{i}.bin") for i, u in enumerate(uploaders)))
    wall = time.perf_counter() - start
    await asyncio.sleep(0.3)
    stop.set()
    await sampling
    return {
        "files": len(uploaders),
        "wall_s": round(wall, 2),
        "aggregate_mb_per_s": round(len(uploaders) * len(data) / MB / wall, 1),
        **sampler.figures(),
    }


async def keep_uploading(spec: dict[str, Any]) -> dict[str, int]:
    """The uploaders' process: each person sends back to back until SIGTERM; counts.

    ``spec`` holds the server URL, the room, the people's tokens, the
    per-person bandwidth (0: unlimited) and the photographer's token.
    """
    data = os.urandom(FILE_BYTES)
    photo = photo_bytes()
    sent = {"files": 0, "photos": 0, "failed": 0}
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def person(token: str, kind: str) -> None:
        uploader = Uploader(spec["url"], token, spec["room_id"])
        blob, name = (data, "big.bin") if kind == "files" else (photo, "photo.jpg")
        if kind == "files" and spec["mb_per_s"] and not spec["together"]:
            # People do not all press Send at the same instant: each starts
            # within one file's time, so completions spread out.
            await asyncio.sleep(random.uniform(0, FILE_BYTES / MB / spec["mb_per_s"]))
        async with aiohttp.ClientSession() as http:
            while not stop.is_set():
                try:
                    await uploader.send(http, blob, name, spec["mb_per_s"])
                    sent[kind] += 1
                except (RuntimeError, aiohttp.ClientError):
                    sent["failed"] += 1
                    await asyncio.sleep(1)
                if kind == "photos":  # one photo every 1.5 s
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 1.5)

    people = [asyncio.create_task(person(t, "files")) for t in spec["tokens"]]
    if spec["photographer"]:
        people.append(asyncio.create_task(person(spec["photographer"], "photos")))
    await stop.wait()
    for task in people:
        task.cancel()
    await asyncio.gather(*people, return_exceptions=True)
    return sent


async def chat_while_uploading(
    target: runner.Target,
    room_id: int,
    tokens: list[str],
    photographer: str,
    *,
    mb_per_s: float,
    rounds: int,
    together: bool = False,
) -> dict[str, Any]:
    """100 x 10, alternated: while 10 people upload 20 MB files (and one photos), and quiet.

    The uploads come from a process of their own, so their CPU does not
    delay the tabs that measure (on 2 cores they still share the machine).
    """
    # The chat's people come after the uploaders, so nobody is in both rooms.
    name, users = target.new_room(100, first_user=len(tokens) + 1)
    clients, connect_s = await runner.open_clients(target, name, users, Ledger())
    spec = {
        "url": target.url,
        "room_id": room_id,
        "tokens": tokens,
        "photographer": photographer,
        "mb_per_s": mb_per_s,
        "together": together,
    }
    sent = {"files": 0, "photos": 0, "failed": 0}

    async def setup(variant: str) -> Callable[[], Awaitable[None]] | None:
        if variant != "uploading":
            return None
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.uploads",
            "--uploaders",
            json.dumps(spec),
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        await asyncio.sleep(1.5)  # the uploads are under way when the round starts

        async def stop_uploading() -> None:
            proc.terminate()
            out, _ = await proc.communicate()
            for kind, n in json.loads(out or b"{}").items():
                sent[kind] += n

        return stop_uploading

    try:
        result = await search_index._alternated(
            target, clients, ("uploading", "quiet"), setup, rate=10, duration=8, rounds=rounds
        )
    finally:
        await runner.close_all(clients)
    pace = f"{mb_per_s:g} MB/s each" if mb_per_s else "unthrottled"
    return {
        "scenario": f"uploading {len(tokens)} x 20 MB ({pace}) + photos vs quiet, "
        f"1x100 10 msg/s {rounds}x8 s",
        **result,
        "uploads": sent,
        "connect_s": round(connect_s, 2),
    }


@contextlib.contextmanager
def storage(backend: str) -> Iterator[dict[str, str]]:
    """The app's environment for one storage backend, for the duration of the block."""
    if backend == "s3":
        with running_s3() as s3:
            yield s3.app_env(prefix="bench")
        return
    with tempfile.TemporaryDirectory(prefix="blabber-bench-uploads-") as where:
        yield {"BLABBER_STORAGE_URL": f"file://{where}"}


async def measure(
    backend: str, server: appserver.AppServer, seeder: Seeder, proto: Protocol, args
) -> dict[str, Any]:
    """Every figure for one backend."""
    people = seeder.ensure_users(UPLOADERS + 1)
    room_id = seeder.room(f"files-{backend}-{os.getpid()}", [u[0] for u in people])
    uploaders = [Uploader(server.url, token, room_id) for _uid, _n, token in people[:UPLOADERS]]
    data = os.urandom(FILE_BYTES)
    out: dict[str, Any] = {"backend": backend}
    out["one_at_a_time"] = await throughput(uploaders[0], data, args.repeat)
    out["ten_at_once"] = await concurrent(uploaders, data, server.proc.pid)
    out["one_100mb"] = await concurrent(uploaders[:1], os.urandom(BIG_BYTES), server.proc.pid)
    out["refused"] = {str(status): n for u in uploaders for status, n in u.refused.items()}
    if backend == "local" or args.ab_everywhere:
        target = runner.Target(f"pg-redis/{backend}", server.url, server.proc.pid, proto, seeder)
        tokens = [token for _uid, _n, token in people[:UPLOADERS]]
        for pace in args.pace:
            out[f"chat_{pace:g}"] = await chat_while_uploading(
                target,
                room_id,
                tokens,
                "" if args.no_photos else people[UPLOADERS][2],
                mb_per_s=pace,
                rounds=args.rounds,
                together=args.together,
            )
    return out


def _worker_cap(args) -> dict[str, str]:
    """``--worker-mb-s``: the server's upload cap other than the shipped one, for an A/B."""
    if args.worker_mb_s is None:
        return {}
    return {"BLABBER_UPLOAD_WORKER_MB_S": str(args.worker_mb_s)}


def run(backend: str, web: Path, proto: Protocol, args) -> dict[str, Any]:
    """Start pg-redis with this storage, measure, stop."""
    with (
        storage(backend) as env,
        pg_redis_server(
            web,
            f"blabber_bench_uploads_{backend}",
            {**env, **BENCH_LIMIT, **_worker_cap(args)},
            f"bench-uploads-{backend}",
        ) as (server, seeder),
    ):
        return asyncio.run(measure(backend, server, seeder, proto, args))


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["local", "s3"])
    parser.add_argument("--repeat", type=int, default=5, help="uploads timed one at a time")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each chat variant")
    parser.add_argument("--ab-everywhere", action="store_true", help="chat A/B on S3 too")
    parser.add_argument(
        "--pace",
        type=float,
        action="append",
        help="each uploader's MB/s during the chat A/B (0: unthrottled); default 4, then 0",
    )
    parser.add_argument(
        "--together", action="store_true", help="paced uploaders all start at once (no spread)"
    )
    parser.add_argument(
        "--worker-mb-s",
        type=int,
        help="the server's BLABBER_UPLOAD_WORKER_MB_S (0: uncapped); default: as shipped",
    )
    parser.add_argument("--no-photos", action="store_true", help="no photo uploads in the A/B")
    parser.add_argument("--uploaders", help=argparse.SUPPRESS)  # the uploaders' own process
    args = parser.parse_args()
    if args.uploaders:
        print(json.dumps(asyncio.run(keep_uploading(json.loads(args.uploaders)))))
        return
    args.pace = args.pace or [4.0, 0.0]
    web = web_dir()
    proto = Protocol.from_web_dir(web)
    load = os.getloadavg()
    for backend in args.backend or ["local", "s3"]:
        result = run(backend, web, proto, args)
        cap = args.worker_mb_s if args.worker_mb_s is not None else "shipped"
        print(
            json.dumps(
                {
                    **result,
                    "worker_mb_s": cap,
                    "loadavg_start": load,
                    "loadavg_end": os.getloadavg(),
                }
            )
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
