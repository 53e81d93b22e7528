"""/healthz reuses one Redis client per worker (issue 12 finding 8b).

A readiness probe that opens a new Redis connection per request lets anyone
who can reach it turn requests into connection churn on Redis. The check
runs against a Redis server of its own, so the count of connections Redis
accepted (``INFO stats`` ``total_connections_received``) is this backend's
alone. Whether nginx exposes the endpoint: test_proxy.py.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import missing_service
from tests.deploy.conftest import placeholder_backend
from tests.support import appserver

pytestmark = [pytest.mark.slow, pytest.mark.redis]
REQUESTS = 20


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    """A throwaway redis-server on a free port; its URL."""
    exe = shutil.which("redis-server")
    if not exe:
        missing_service("redis-server not installed: private Redis tests skipped")
    port = appserver.free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def _connections_received(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("stats")["total_connections_received"])
    finally:
        client.close()


def test_healthz_shares_one_redis_client(private_redis: str, tmp_path: Path) -> None:
    server = placeholder_backend(tmp_path, "health-redis", redis_url=private_redis)
    try:
        for _ in range(3):  # warm up: the first probes may open the shared client
            urllib.request.urlopen(f"{server.url}/healthz", timeout=5).close()
        before = _connections_received(private_redis)
        for _ in range(REQUESTS):
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as resp:
                assert resp.status == 200
        opened = _connections_received(private_redis) - before - 1  # minus our own INFO
        assert opened <= 1, f"{opened} Redis connections for {REQUESTS} health checks"
    finally:
        server.stop()
