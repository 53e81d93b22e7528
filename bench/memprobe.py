"""``python -m bench.memprobe [N]``: where a connected client's server memory goes.

Starts the app (SQLite, one worker, the bench environment), then measures
the server's RSS growth per connection twice: N bare socket.io connections
that send nothing (Uvicorn + Reflex's ASGI socket.io stack, no tab state),
then N real tabs (hydrate + open a room; each with its own socket, so the
difference between the two figures is what a tab's state costs). Honours ``BENCH_SERVER_ENV``
(see ``bench.__main__.bench_env``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import uuid
from pathlib import Path

import psutil
import socketio

from bench import runner
from bench.__main__ import bench_env, web_dir
from bench.client import NAMESPACE, Protocol
from bench.setup import Seeder
from bench.stats import Ledger


def rss(pid: int) -> int:
    """RSS of a process and all its children, in bytes."""
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])


async def probe(n: int) -> dict[str, float]:
    """KiB per bare connection and per full tab."""
    from tests.support import appserver

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'memprobe.db'}"
        appserver.migrate(url)
        web = web_dir()
        server = appserver.start_server(
            web,
            port=appserver.free_port(),
            database_url=url,
            extra_env=bench_env(),
            name="memprobe",
        )
        seeder = Seeder(url)
        bare: list[socketio.AsyncClient] = []
        try:
            await asyncio.sleep(2)
            before = rss(server.proc.pid)
            origin = server.url.replace("127.0.0.1", "localhost")
            for _ in range(n):
                client = socketio.AsyncClient(reconnection=False)
                await client.connect(
                    f"{server.url}?token={uuid.uuid4().hex}",
                    socketio_path="/_event",
                    transports=["websocket"],
                    namespaces=[NAMESPACE],
                    headers={"Origin": origin},
                )
                bare.append(client)
            await asyncio.sleep(3)
            after_bare = rss(server.proc.pid)
            target = runner.Target(
                "sqlite", server.url, server.proc.pid, Protocol.from_web_dir(web), seeder
            )
            name, users = target.new_room(n)
            tabs, _ = await runner.open_clients(target, name, users, Ledger())
            await asyncio.sleep(4)
            after_tabs = rss(server.proc.pid)
            await runner.close_all(tabs)
            return {
                "connections": n,
                "bare_socket_kib": round((after_bare - before) / n / 1024, 1),
                "full_tab_kib": round((after_tabs - after_bare) / n / 1024, 1),
            }
        finally:
            for client in bare:
                await client.disconnect()
            seeder.dispose()
            server.stop()


def main() -> None:
    """Print the two figures as one JSON line."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    print(json.dumps(asyncio.run(probe(n))))


if __name__ == "__main__":
    main()
