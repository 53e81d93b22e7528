"""Start-up objects are frozen out of the garbage collector (blabber/heap.py)."""

from __future__ import annotations

import gc

from blabber.heap import freeze_startup_heap


def test_freeze_moves_live_objects_out_of_collections():
    survivor = [[] for _ in range(3)]  # containers, tracked by the collector

    def collected_over() -> bool:
        return any(o is survivor for o in gc.get_objects())

    assert collected_over()
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 0
        gc.collect()
        assert not collected_over()  # full collections no longer walk it
    finally:
        gc.unfreeze()  # the rest of the test session collects normally
    assert collected_over()


def test_every_worker_freezes_at_start_up():
    from blabber.blabber import app

    assert freeze_startup_heap in app.get_lifespan_tasks()
