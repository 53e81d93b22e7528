"""bcrypt in a separate process at the lowest CPU priority, so log-ins cannot stall chat.

A cost-12 hash is ~250 ms of pure CPU. Run in a thread of the server worker
it competes with the event loop for the 2 cores, and 20 log-ins at once made
chat delivery p99 8x its idle figure. Lowering the thread's priority helped
(nice 19: ~2x) but cannot go all the way: bcrypt takes the worker's GIL to
start and to return, and a low-priority thread holding or waiting for the
GIL makes the event loop wait for *it* (priority inversion). A separate
process has its own GIL. There it runs ``SCHED_IDLE``: only on an otherwise
idle core, and off it as soon as anything else wants to run.

Only the bcrypt primitive crosses the process boundary (two byte strings);
the service around it (session, database) stays in the worker.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from blabber.settings import get_settings

T = TypeVar("T")
LOWEST_NICENESS = 19


def lower_cpu_priority() -> None:
    """Make the calling thread (or single-threaded process) run only when a core is idle.

    ``SCHED_IDLE`` where Linux allows it (it always does for lowering one's
    own priority), nice 19 as well for schedulers without it; elsewhere the
    work simply runs at normal priority.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, 0, LOWEST_NICENESS)
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def hashing_processes() -> ProcessPoolExecutor:
    """This worker's hashing processes: ``BLABBER_PASSWORD_THREADS`` of them (default 1).

    Started on first use (the first log-in of a worker waits ~0.3 s for it)
    with ``spawn``: a fresh interpreter, never a fork of a worker that runs
    threads and holds sockets.
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=max(1, get_settings().password_threads),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=lower_cpu_priority,
            )
        return _pool


def _discard(broken: ProcessPoolExecutor) -> None:
    """Forget a broken pool, unless another password thread already replaced it."""
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None


def run_bcrypt(fn: Callable[..., T], *args: bytes) -> T:
    """``fn(*args)`` in a hashing process; blocks the calling thread, not the GIL.

    A hashing process that died (killed, out of memory) breaks the pool for
    good, so the pool is replaced and the call tried once more.
    """
    pool = hashing_processes()
    try:
        return pool.submit(fn, *args).result()
    except BrokenProcessPool:
        _discard(pool)
        return hashing_processes().submit(fn, *args).result()
