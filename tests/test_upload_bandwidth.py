"""A worker takes upload bytes no faster than ``BLABBER_UPLOAD_WORKER_MB_S``, after a burst.

The bytes come from a stand-in for Starlette's request (its ``stream()``),
64 KiB at a time as Uvicorn hands them over. Only lower bounds on time are
asserted: the cap can only make a body slower, never faster.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from blabber.endpoints import uploads
from blabber.settings import Settings

PIECE = 64 * 1024
MIB = 1024 * 1024


class Body:
    """A request whose body is ``size`` bytes."""

    def __init__(self, size: int) -> None:
        self.size = size

    async def stream(self):
        for _ in range(self.size // PIECE):
            yield b"x" * PIECE


@pytest.fixture
def capped(monkeypatch, tmp_path):
    """Settings with a 1 MiB burst (``upload_max_mb=1``) and the given cap."""

    def install(mb_s: int) -> None:
        settings = Settings(upload_max_mb=1, upload_worker_mb_s=mb_s)
        monkeypatch.setattr(uploads, "get_settings", lambda: settings)
        uploads._bandwidth_of_loop.clear()

    monkeypatch.setattr(
        uploads.file_store,
        "get_storage",
        lambda: type("S", (), {"scratch_dir": lambda s: tmp_path})(),
    )
    return install


async def receive_all(*bodies: Body) -> float:
    """Seconds to receive the bodies at once (each within its limit)."""

    async def one(body: Body) -> int:
        async with uploads.received(body, body.size) as (_path, size):  # type: ignore[arg-type]
            return size

    start = time.perf_counter()
    sizes = await asyncio.gather(*(one(b) for b in bodies))
    assert sizes == [b.size for b in bodies]
    return time.perf_counter() - start


async def test_uploads_together_share_one_worker_cap_after_the_burst(capped):
    capped(4)  # 4 MB/s for the worker, a 1 MiB burst
    # Three bodies of 1 MiB: one goes in the burst, the other 2 MiB at 4 MB/s (~0.52 s).
    seconds = await receive_all(Body(MIB), Body(MIB), Body(MIB))
    assert seconds >= 0.4


async def test_the_bucket_holds_one_largest_file_and_zero_means_no_cap(capped):
    capped(0)
    assert uploads._bandwidth() is None
    capped(4)
    limiter = uploads._bandwidth()
    assert limiter is not None and limiter.max_rate == MIB  # the burst: one largest file
    assert limiter.max_rate / limiter.time_period == 4_000_000
