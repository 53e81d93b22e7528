"""Thread pools of blabber.db: password hashing must not starve chat of CPU."""

from __future__ import annotations

import os
import threading

from blabber import db


def test_password_threads_run_at_the_lowest_cpu_priority():
    seen: list[int] = []

    def worker() -> None:
        db._lower_priority()
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [db.PASSWORD_THREAD_NICENESS]
    # The process itself (its event loop) keeps its priority.
    assert os.getpriority(os.PRIO_PROCESS, 0) < db.PASSWORD_THREAD_NICENESS
    assert db.password_threads()._initializer is db._lower_priority
