"""A Uvicorn worker is SIGKILLed mid-traffic: its tabs reconnect and lose nothing acknowledged.

Two workers (Redis broker + state manager, PostgreSQL). Tabs spread over both
workers keep sending; one worker is killed without warning (Uvicorn's
supervisor respawns it). Every message a sender saw acknowledged must be in the
database, and every tab, after reconnecting, must show all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import psutil
import pytest

from tests.reliability.conftest import APP_ENV, shown, stored_messages
from tests.support import appserver
from tests.support.reflex_client import COMPOSER, ReflexClient

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]
TABS = 4


def _busiest_worker(server: appserver.AppServer) -> int:
    """Pid of the worker holding the most websockets (so killing it drops some tabs)."""

    def sockets(proc: psutil.Process) -> int:
        with contextlib.suppress(psutil.Error):
            return sum(
                1
                for c in proc.net_connections(kind="tcp")
                if c.laddr and c.laddr.port == server.port and c.status == psutil.CONN_ESTABLISHED
            )
        return 0

    workers = server.worker_processes()
    return max(workers, key=sockets).pid


async def test_killed_worker_loses_nothing_acknowledged(postgres, redis_server, stub_web_dir):
    server = appserver.start_server(
        stub_web_dir,
        port=appserver.free_port(),
        database_url=postgres.url,
        redis_url=redis_server.url,
        workers=2,
        extra_env={**APP_ENV, "BLABBER_HISTORY_PAGE_SIZE": "60"},  # all of it on (re)open
        name="worker-kill",
    )
    tabs = [ReflexClient(server.url) for _ in range(TABS)]
    acked: set[str] = set()
    try:
        for i, tab in enumerate(tabs):
            await tab.connect()
            await tab.sign_up(f"user{i}")
            await tab.join("ops")
        workers = {p.pid for p in server.worker_processes()}
        assert len(workers) == 2
        victim = _busiest_worker(server)

        async def send_some(tab: ReflexClient, i: int, count: int) -> None:
            for n in range(count):
                body = f"u{i}-{n}"
                with contextlib.suppress(Exception):  # the socket may die under us
                    await tab.call(COMPOSER, "send", form_data={"body": body, "client_id": body})
                await asyncio.sleep(0.05)

        traffic = [asyncio.create_task(send_some(t, i, 10)) for i, t in enumerate(tabs)]
        await asyncio.sleep(0.3)
        psutil.Process(victim).kill()
        await asyncio.gather(*traffic)
        for tab in tabs:  # what each sender saw acknowledged (its own message came back)
            acked |= {m["client_id"] for m in shown(tab) if m["client_id"]}
        dropped = [t for t in tabs if not t.connected]
        assert dropped, "no tab was on the killed worker"

        for tab in tabs:
            await tab.reconnect()  # what state.js does on a dropped socket
        stored = [cid for cid, _ in stored_messages(postgres.url)]
        assert acked <= set(stored), f"acknowledged but lost: {acked - set(stored)}"
        assert len(stored) == len(set(stored))  # no duplicates
        for tab in tabs:  # every reconnected tab's history holds every acknowledged message
            await tab.wait_for(
                lambda t=tab: acked <= {m["client_id"] for m in shown(t)}, timeout=20
            )
        assert psutil.Process(server.proc.pid).is_running()
        # The supervisor notices the dead worker on its next check (every 0.5 s,
        # after pinging the live one) and spawns a replacement.
        deadline = time.monotonic() + 15
        while len(server.worker_processes()) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert len(server.worker_processes()) == 2
        assert victim not in {p.pid for p in server.worker_processes()}
    finally:
        for tab in tabs:
            await tab.close()
        server.stop()
