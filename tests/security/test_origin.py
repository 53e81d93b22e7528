"""The websocket handshake is refused from origins not on the allow-list."""

from __future__ import annotations

import aiohttp
import pytest

from tests.support.appserver import AppServer


async def _handshake(server: AppServer, origin: str) -> int | str:
    url = f"{server.url}/_event/?EIO=4&transport=websocket&token=origin-test"
    async with aiohttp.ClientSession() as session:
        try:
            ws = await session.ws_connect(url, headers={"Origin": origin})
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status
        first = await ws.receive(timeout=5)
        await ws.close()
        return str(first.data)


async def test_foreign_origin_is_refused(backend: AppServer) -> None:
    assert await _handshake(backend, "http://evil.example") == 403


async def test_allowed_origin_gets_a_socket(backend: AppServer) -> None:
    opened = await _handshake(backend, f"http://localhost:{backend.port}")
    assert isinstance(opened, str) and opened.startswith('0{"sid"'), opened


@pytest.mark.parametrize("origin", ["null", "http://localhost:1", "https://localhost"])
async def test_near_miss_origins_are_refused(backend: AppServer, origin: str) -> None:
    assert await _handshake(backend, origin) == 403
