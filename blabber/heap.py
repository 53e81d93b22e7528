"""Keep Python's garbage collector from pausing chat delivery.

A server worker holds ~180,000 container objects once Reflex, SQLAlchemy and
the app are imported (modules, classes, compiled pages). Every full
collection walks all of them: ~80 ms on the bench machine, during which no
websocket frame goes out. Those objects live as long as the process, so they
are moved out of the collector's sight once, after start-up; later full
collections walk only what the running app allocated (tabs, feeds, events).
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def freeze_startup_heap() -> None:
    """Lifespan step: collect start-up garbage, then freeze the survivors.

    ``gc.freeze`` moves every tracked object to a permanent generation that
    collections skip. Collecting first keeps start-up garbage out of it.
    """
    gc.collect()
    gc.freeze()
    log.info("froze %d start-up objects out of the garbage collector", gc.get_freeze_count())
