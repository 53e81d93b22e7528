"""A picture uploaded through one app worker is shown and served by another, to members only.

Two backend processes (worker A and worker B, each on its own port) share one
PostgreSQL database, one Redis (broker + Reflex state manager) and one S3
bucket (moto's server, credentials enforced). alice uploads a PNG through
worker A's ``POST /api/files`` and sends it with a message over A's websocket;
bob's tab, connected to worker B, receives the message's row carrying the file
(``files`` with its download and thumbnail URLs) live over Redis; worker B
serves the original bytes and a WebP thumbnail from S3 with bob's cookie.
carol, signed in but not in the room, gets 404 on both URLs; once alice kicks
bob (the admin's event, on worker A), bob's very next request to worker B is
404 as well: access is read from the shared database on every request, not
cached per worker.
"""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Iterator

import aiohttp
import pytest
import sqlalchemy as sa

from blabber import db
from tests.reliability.conftest import APP_ENV
from tests.support import appserver, sample_files
from tests.support.reflex_client import ADMIN, COMPOSER, SESSION_COOKIE, ReflexClient
from tests.support.s3 import S3Server, running_s3

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(120)]


@pytest.fixture
def s3() -> Iterator[S3Server]:
    with running_s3() as server:
        yield server


def _ids(database_url: str, room: str, users: list[str]) -> tuple[int, dict[str, int]]:
    """The room's id and the users' ids, read from the shared database."""
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            room_id = conn.execute(
                sa.text("SELECT id FROM rooms WHERE name = :n"), {"n": room}
            ).scalar_one()
            rows = conn.execute(
                sa.text("SELECT username, id FROM users WHERE username IN :names").bindparams(
                    sa.bindparam("names", expanding=True)
                ),
                {"names": users},
            ).all()
    finally:
        engine.dispose()
    return room_id, {name: user_id for name, user_id in rows}


def _bucket_keys(s3: S3Server) -> list[str]:
    """Every object key in the test bucket, read with the app's own credentials."""
    client = s3.client()
    return [o["Key"] for o in client.list_objects_v2(Bucket=s3.bucket).get("Contents", [])]


async def _get(server: appserver.AppServer, path: str, token: str) -> tuple[int, str, bytes]:
    """GET ``path`` from ``server`` with ``token``'s session cookie: (status, type, body)."""
    headers = {"Cookie": f"{SESSION_COOKIE}={token}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}{path}", headers=headers) as response:
            return response.status, response.headers.get("content-type", ""), await response.read()


async def test_a_file_uploaded_on_one_worker_is_shown_and_served_by_another_to_members_only(
    postgres_url, redis_url, s3, stub_web_dir
):
    prefix = f"two-workers-{uuid.uuid4().hex[:6]}"
    env = {**APP_ENV, **s3.app_env(prefix=prefix)}
    common = {"database_url": postgres_url, "redis_url": redis_url, "extra_env": env}
    worker_a = appserver.start_server(
        stub_web_dir, port=appserver.free_port(), name="files-a", **common
    )
    try:
        worker_b = appserver.start_server(
            stub_web_dir, port=appserver.free_port(), name="files-b", **common
        )
    except BaseException:
        worker_a.stop()
        raise
    suffix = uuid.uuid4().hex[:6]
    alice_name, bob_name, carol_name = (f"{n}{suffix}" for n in ("al", "bo", "ca"))
    room = f"pix{suffix}"
    alice, carol = ReflexClient(worker_a.url), ReflexClient(worker_a.url)
    bob = ReflexClient(worker_b.url)
    try:
        for client, name in ((alice, alice_name), (bob, bob_name), (carol, carol_name)):
            await client.connect()
            await client.sign_up(name)
        await alice.join(room)  # the first to join is the room's admin
        await bob.join(room)
        room_id, ids = _ids(postgres_url, room, [alice_name, bob_name])

        # Upload through worker A, as the page's script does.
        picture = sample_files.png(64, 48, "green")
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{worker_a.url}/api/files?room={room_id}",
                data=picture,
                headers={
                    "Cookie": f"{SESSION_COOKIE}={alice.session_token}",
                    "Origin": alice.origin,
                    "content-type": "application/octet-stream",
                    "x-file-name": urllib.parse.quote("snap.png"),
                },
            ) as response:
                answer = await response.json(content_type=None)
                assert response.status == 200, answer
        assert answer["ok"] is True
        file_id = answer["file"]["id"]
        await alice.call(
            COMPOSER,
            "send",
            form_data={"body": "look", "client_id": f"c{suffix}", "attachment_ids": str(file_id)},
        )

        # bob's tab on worker B shows the message with the file.
        def bobs_row() -> dict | None:
            return next((m for m in bob.messages() if m.get("body") == "look"), None)

        await bob.wait_for(lambda: bobs_row() is not None, timeout=20)
        files = bobs_row()["files"]  # type: ignore[index]
        assert [f["id"] for f in files] == [file_id], files
        shown = files[0]
        assert shown["name"] == "snap.png" and shown["image"] is True
        assert shown["thumb_url"] == f"/api/thumbs/{file_id}"
        url, thumb_url = shown["url"], shown["thumb_url"]
        assert url == f"/api/files/{file_id}/snap.png"

        # Worker B serves it (from S3) to bob.
        status, kind, body = await _get(worker_b, url, bob.session_token)
        assert status == 200 and body == picture and kind.startswith("image/png")
        status, kind, body = await _get(worker_b, thumb_url, bob.session_token)
        assert status == 200 and kind == "image/webp" and body[8:12] == b"WEBP"

        # The bytes live in the bucket (not on either worker's disk).
        assert any(key.startswith(f"{prefix}/") for key in _bucket_keys(s3))

        # Not a member: 404 on both, on both workers.
        for server in (worker_a, worker_b):
            for path in (url, thumb_url):
                assert (await _get(server, path, carol.session_token))[0] == 404, path

        # alice kicks bob (on worker A); bob's next request to worker B is refused.
        await alice.call(ADMIN, "kick", user_id=ids[bob_name])
        await alice.processed()
        assert alice.var(ADMIN, "admin_error", "") == ""
        for path in (url, thumb_url):
            assert (await _get(worker_b, path, bob.session_token))[0] == 404, path
        # Positive control: alice still gets it from worker B.
        assert (await _get(worker_b, url, alice.session_token))[0] == 200
    finally:
        for client in (alice, bob, carol):
            await client.close()
        worker_b.stop()
        worker_a.stop()
