"""Password work of blabber.db / blabber.hashing: a login storm must not starve chat of CPU."""

from __future__ import annotations

import os
import signal
import time

import bcrypt
import psutil

from blabber import db, hashing, security


def _in_password_thread(fn):
    return db.password_threads().submit(fn).result(timeout=60)


def test_password_threads_hash_in_a_separate_idle_priority_process():
    def where_bcrypt_runs():
        hashed = security.hash_password("correct horse", rounds=4)
        assert security.verify_password("correct horse", hashed)
        return security._bcrypt(os.getpid), security._bcrypt(os.sched_getscheduler, 0)

    pid, policy = _in_password_thread(where_bcrypt_runs)
    assert pid != os.getpid()
    assert policy == os.SCHED_IDLE
    assert psutil.Process(pid).nice() == hashing.LOWEST_NICENESS
    # The worker itself (its event loop and every other thread) keeps its priority.
    assert os.sched_getscheduler(0) == os.SCHED_OTHER
    assert os.getpriority(os.PRIO_PROCESS, 0) < hashing.LOWEST_NICENESS
    # Outside the password threads (seeding, tests) bcrypt runs in place.
    assert security._bcrypt(os.getpid) == os.getpid()


def test_a_killed_hashing_process_is_replaced():
    first = _in_password_thread(lambda: security._bcrypt(os.getpid))
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while psutil.pid_exists(first) and psutil.Process(first).status() != "zombie":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    hashed = _in_password_thread(lambda: security.hash_password("still works", rounds=4))
    assert bcrypt.checkpw(b"still works", hashed.encode())
    assert _in_password_thread(lambda: security._bcrypt(os.getpid)) != first
