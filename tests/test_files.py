"""Files in messages and profile pictures: the services and the HTTP endpoints, on both databases.

The endpoints run in-process (Starlette's test client) against the real
test database and a real store: a directory here; tests/test_storage.py
and the two-worker test (tests/reliability/test_files_two_workers.py) run
the same code on S3.
"""

from __future__ import annotations

import functools
import io
import urllib.parse
from collections.abc import Iterator

import pytest
from PIL import Image
from sqlmodel import Session, func, select
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from blabber import session_cookie, storage
from blabber.endpoints import files as file_endpoints
from blabber.models import Attachment, User
from blabber.realtime import events
from blabber.services import (
    accounts,
    file_store,
    files,
    images,
    message_changes,
    messages,
    room_admin,
    room_settings,
    rooms,
)
from blabber.services.errors import NotFound, ServiceError
from blabber.settings import get_settings
from tests.conftest import FAST
from tests.support import sample_files

ORIGIN = get_settings().allowed_origins[0]


@pytest.fixture
def store(tmp_path, monkeypatch) -> storage.LocalStorage:
    local = storage.LocalStorage(tmp_path / "uploads")
    monkeypatch.setattr(file_store, "get_storage", lambda: local)
    return local


@pytest.fixture
def people(session: Session):
    """alice (admin) and bob in "general", carol outside; (ids, tokens, room id)."""
    signed = {
        n: accounts.sign_up(session, n, "password1", settings=FAST)
        for n in ("alice", "bob", "carol")
    }
    room = rooms.join_room(session, signed["alice"].user_id, "general")
    rooms.join_room(session, signed["bob"].user_id, "general")
    ids = {n: s.user_id for n, s in signed.items()}
    tokens = {n: s.token for n, s in signed.items()}
    return ids, tokens, room.id


@pytest.fixture
def client(engine, store) -> Iterator[TestClient]:
    app = Starlette(
        routes=[Route(p, e, methods=[v]) for p, e, v in file_endpoints.ROUTES],
    )
    with TestClient(app, base_url="http://localhost") as test_client:
        yield test_client


def as_user(token: str) -> dict[str, str]:
    return {"cookie": f"{session_cookie.COOKIE_NAME}={token}", "origin": ORIGIN}


def upload(client, token, room_id, name, data, **headers):
    return client.post(
        f"/api/files?room={room_id}",
        content=data,
        headers={
            **as_user(token),
            "content-type": "application/octet-stream",
            "x-file-name": urllib.parse.quote(name),
            **headers,
        },
    )


def send_with(session, user_id, room_id, ids, body="", client_id="c1"):
    return messages.send_message(
        session, user_id, room_id, body, client_id, attachment_ids=",".join(map(str, ids))
    )


def test_a_picture_is_cleaned_thumbnailed_attached_and_readable_by_members_only(
    session, people, client, store, broker
):
    ids, tokens, room_id = people
    answer = upload(client, tokens["alice"], room_id, "holiday.jpg", sample_files.jpeg_from_phone())
    assert answer.status_code == 200, answer.text
    file = answer.json()["file"]
    assert file["name"] == "holiday.jpg" and file["image"] is True
    session.expire_all()
    row = session.get(Attachment, file["id"])
    # Orientation 6 turns the 80x40 picture upright: 40 wide, 80 high.
    assert (row.content_type, row.width, row.height) == ("image/jpeg", 40, 80)
    stored = Image.open(io.BytesIO(b"".join(store.chunks(row.storage_key))))
    assert stored.size == (40, 80)
    assert not stored.getexif(), "the location (and all EXIF) is gone from what others get"

    # Before it is sent, only its uploader can read it.
    url = f"/api/files/{row.id}/holiday.jpg"
    assert client.get(url, headers=as_user(tokens["alice"])).status_code == 200
    assert client.get(url, headers=as_user(tokens["bob"])).status_code == 404

    view = send_with(session, ids["alice"], room_id, [row.id])
    assert view.body == "" and [f.id for f in view.files] == [row.id]
    assert view.files[0].thumb_url == f"/api/thumbs/{row.id}"
    created = broker.of_type(events.MESSAGE_CREATED)[-1]
    assert created.data["files"][0]["id"] == row.id  # delivered live with the message

    got = client.get(url, headers=as_user(tokens["bob"]))
    assert got.status_code == 200 and got.content == b"".join(store.chunks(row.storage_key))
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in got.headers["content-security-policy"]
    thumb = client.get(f"/api/thumbs/{row.id}", headers=as_user(tokens["bob"]))
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 640

    # Outsiders, strangers and made-up ids all get the same 404.
    for headers in (as_user(tokens["carol"]), {}, {"cookie": "blabber_session=nonsense"}):
        assert client.get(url, headers=headers).status_code == 404
        assert client.get(f"/api/thumbs/{row.id}", headers=headers).status_code == 404
    assert client.get("/api/files/999999/x", headers=as_user(tokens["bob"])).status_code == 404

    # Removed from the room: the next request is refused.
    room_admin.kick_member(session, ids["alice"], room_id, ids["bob"])
    assert client.get(url, headers=as_user(tokens["bob"])).status_code == 404


def test_other_files_are_downloads_with_their_sniffed_type(session, people, client):
    ids, tokens, room_id = people
    cases = {
        "report.pdf": (sample_files.PDF, "application/pdf"),
        "logo.svg": (sample_files.SVG_WITH_SCRIPT, "application/octet-stream"),
        "page.html": (sample_files.HTML_PAGE, "application/octet-stream"),
        "notes.txt": (b"just some notes\n", "text/plain"),
        # The browser's word means nothing: a page named like a picture is still a page.
        "cat.png": (sample_files.HTML_PAGE, "application/octet-stream"),
    }
    uploaded = {}
    for name, (data, _) in cases.items():
        answer = upload(client, tokens["alice"], room_id, name, data)
        assert answer.status_code == 200, answer.text
        assert answer.json()["file"]["image"] is False
        uploaded[name] = answer.json()["file"]["id"]
    send_with(session, ids["alice"], room_id, list(uploaded.values()))
    for name, (data, served) in cases.items():
        got = client.get(f"/api/files/{uploaded[name]}/{name}", headers=as_user(tokens["bob"]))
        assert got.status_code == 200 and got.content == data
        assert got.headers["content-type"].split(";")[0] == served, name
        assert got.headers["content-disposition"].startswith("attachment;"), name
        assert f"filename*=UTF-8''{urllib.parse.quote(name)}" in got.headers["content-disposition"]


def test_a_decompression_bomb_is_never_decoded_and_stays_a_plain_file(session, people, client):
    _ids, tokens, room_id = people
    answer = upload(client, tokens["alice"], room_id, "bomb.png", sample_files.png_bomb())
    assert answer.status_code == 200 and answer.json()["file"]["image"] is False
    session.expire_all()
    row = session.get(Attachment, answer.json()["file"]["id"])
    assert row.thumb_key is None and row.content_type != "image/png"


def test_the_pixel_limit_refuses_a_picture_from_its_header_alone(tmp_path):
    """The guard itself: the bomb above would also fail to decode (its pixels are
    truncated), so that test alone would pass without the limit; this one would not."""
    path = tmp_path / "bomb.png"
    path.write_bytes(sample_files.png_bomb())  # claims 100,000 x 100,000
    with pytest.raises(images.NotAnImage):
        images.probe(path)
    path.write_bytes(sample_files.png_bomb(7000))  # 49 MP: under the limit, a picture
    assert images.probe(path).width == 7000


def test_uploads_are_refused_with_a_reason_before_any_bytes_are_kept(
    session, people, client, store
):
    _ids, tokens, room_id = people
    limit = get_settings().upload_max_mb
    too_big = upload(
        client,
        tokens["alice"],
        room_id,
        "big.bin",
        b"x",
        **{"content-length": str(limit * 2**20 + 1)},
    )
    assert too_big.status_code == 413 and f"the limit is {limit} MB" in too_big.json()["error"]
    outsider = upload(client, tokens["carol"], room_id, "a.txt", b"hi")
    nowhere = upload(client, tokens["alice"], 987654, "a.txt", b"hi")
    # A room I am not in and a room that does not exist: the same refusal.
    assert outsider.status_code == nowhere.status_code == 403
    assert outsider.json() == nowhere.json()
    wrong_site = upload(
        client, tokens["alice"], room_id, "a.txt", b"hi", origin="https://evil.example"
    )
    assert wrong_site.status_code == 403
    assert (
        client.post(
            f"/api/files?room={room_id}", content=b"hi", headers={"origin": ORIGIN}
        ).status_code
        == 401
    )
    empty = upload(client, tokens["alice"], room_id, "empty.txt", b"")
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Attachment)).one() == 0
    assert not (store.root / "f").exists() or not any((store.root / "f").iterdir())
    # Positive control: the same upload by a member is taken.
    assert upload(client, tokens["alice"], room_id, "a.txt", b"hi").status_code == 200


def test_a_send_takes_only_my_unsent_uploads_to_that_room(session, people, client):
    ids, tokens, room_id = people
    other = rooms.join_room(session, ids["alice"], "other").id
    rooms.join_room(session, ids["bob"], "other")
    mine = upload(client, tokens["alice"], room_id, "a.txt", b"a").json()["file"]["id"]
    bobs = upload(client, tokens["bob"], room_id, "b.txt", b"b").json()["file"]["id"]
    elsewhere = upload(client, tokens["alice"], other, "c.txt", b"c").json()["file"]["id"]
    for wrong in ([bobs], [elsewhere], [mine, 999999]):
        with pytest.raises(ServiceError, match="attach it again"):
            send_with(session, ids["alice"], room_id, wrong, body="look")
        session.rollback()
    with pytest.raises(ServiceError):
        send_with(session, ids["alice"], room_id, [], body="")  # neither text nor files
    for garbled in ("1;2", "x", ",".join(["1"] * 3) + ",a", 5):
        with pytest.raises(ServiceError):
            messages.send_message(
                session, ids["alice"], room_id, "hi", "g1", attachment_ids=garbled
            )
    with pytest.raises(ServiceError, match="up to 10"):
        files.parse_ids(",".join(str(i) for i in range(1, 12)))
    sent = send_with(session, ids["alice"], room_id, [mine], body="look")
    assert [f.name for f in sent.files] == ["a.txt"]
    with pytest.raises(ServiceError, match="attach it again"):  # already sent with a message
        send_with(session, ids["alice"], room_id, [mine], body="again", client_id="c2")


def test_deleting_a_message_or_its_room_deletes_the_files(session, people, client, store):
    ids, tokens, room_id = people
    first = upload(client, tokens["alice"], room_id, "p.png", sample_files.png()).json()["file"][
        "id"
    ]
    second = upload(client, tokens["alice"], room_id, "q.txt", b"q").json()["file"]["id"]
    message = send_with(session, ids["alice"], room_id, [first])
    send_with(session, ids["alice"], room_id, [second], client_id="c2")
    session.expire_all()
    keys = [session.get(Attachment, first).storage_key, session.get(Attachment, first).thumb_key]
    second_key = session.get(Attachment, second).storage_key
    assert all(store.exists(k) for k in keys)
    message_changes.delete_message(session, ids["alice"], message.id)
    assert not any(store.exists(k) for k in keys)
    assert session.get(Attachment, first) is None
    assert (
        client.get(f"/api/files/{first}/p.png", headers=as_user(tokens["alice"])).status_code == 404
    )
    assert store.exists(second_key)
    room_settings.delete_room(session, ids["alice"], room_id)
    assert not store.exists(second_key)
    assert session.exec(select(func.count()).select_from(Attachment)).one() == 0


def test_a_rolled_back_deletion_keeps_the_bytes(session, people, client, store):
    ids, tokens, room_id = people
    file_id = upload(client, tokens["alice"], room_id, "k.txt", b"keep").json()["file"]["id"]
    send_with(session, ids["alice"], room_id, [file_id])
    session.expire_all()
    row = session.get(Attachment, file_id)
    files.forget_message_files(session, row.message_id)
    session.rollback()
    assert store.exists(row.storage_key)


def test_profile_pictures_are_square_webp_seen_by_the_signed_in_and_removable(
    session, people, client, store, broker
):
    ids, tokens, room_id = people
    messages.send_message(session, ids["alice"], room_id, "hello", "m1")
    broker.published.clear()
    not_picture = client.post("/api/avatar", content=b"%PDF-1.4", headers=as_user(tokens["alice"]))
    assert (
        not_picture.status_code == 400 and "PNG, JPEG, GIF or WebP" in not_picture.json()["error"]
    )
    answer = client.post(
        "/api/avatar",
        content=sample_files.jpeg_from_phone(300, 120),
        headers=as_user(tokens["alice"]),
    )
    assert answer.status_code == 200, answer.text
    url = answer.json()["url"]
    got = client.get(url, headers=as_user(tokens["carol"]))  # anyone signed in
    assert got.status_code == 200 and got.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(got.content)).size == (256, 256)
    assert client.get(url).status_code == 404  # not signed in
    renamed = broker.of_type(events.USER_RENAMED)
    assert renamed and room_id in renamed[-1].data["room_ids"]  # rooms re-read: the picture shows
    view = messages.room_window(session, room_id, 5)[0][-1]
    assert view.author_avatar == url
    session.expire_all()
    key = session.get(User, ids["alice"]).avatar_key
    from blabber.services import avatars

    assert avatars.remove_avatar(session, ids["alice"]) is True  # at once: not spaced
    assert not store.exists(key)
    assert client.get(url, headers=as_user(tokens["carol"])).status_code == 404


def test_a_new_picture_waits_a_few_seconds_after_the_last(session, people, client, store):
    """Each new picture re-sends my messages to all my rooms: a script may not loop on it."""
    from blabber.services import avatars

    ids, tokens, _room_id = people
    send = functools.partial(
        client.post, "/api/avatar", content=sample_files.png(64, 64), headers=as_user(tokens["bob"])
    )
    assert send().status_code == 200
    session.expire_all()
    first = session.get(User, ids["bob"]).avatar_key
    stored = set(store.root.rglob("*"))
    too_soon = send()
    assert too_soon.status_code == 429 and too_soon.json()["error"] == avatars.TOO_SOON
    assert set(store.root.rglob("*")) == stored  # refused before any bytes were kept
    with pytest.raises(ServiceError, match="a moment ago"):  # the service's own check
        avatars.set_avatar(session, ids["bob"], "a/0123")
    session.expire_all()
    bob = session.get(User, ids["bob"])
    assert bob.avatar_key == first
    bob.avatar_changed_at -= avatars.CHANGE_EVERY  # as if the seconds had passed
    session.add(bob)
    session.commit()
    assert send().status_code == 200


def test_names_are_sanitised_and_keys_never_come_from_them(session, people, client):
    _ids, tokens, room_id = people
    answer = upload(client, tokens["alice"], room_id, "../../etc/pass\x00wd\n.txt", b"x")
    assert answer.status_code == 200
    session.expire_all()
    row = session.get(Attachment, answer.json()["file"]["id"])
    assert row.name == "pass wd .txt" and "/" not in row.name
    assert row.storage_key.startswith("f/") and "pass" not in row.storage_key


def test_readable_file_refuses_malformed_ids(session, people):
    ids, _tokens, _room = people
    for wrong in (0, -1, "1", True, None, 1.5):
        with pytest.raises(NotFound):
            files.readable_file(session, ids["alice"], wrong)
