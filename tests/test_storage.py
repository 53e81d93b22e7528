"""File storage (blabber/storage.py): a directory, and a real S3 API server.

The S3 half runs against moto's standalone server (tests/support/s3.py), with
authentication switched on. The same tests run on both stores.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Iterator

import pytest

from blabber import storage
from blabber.settings import Settings
from tests.support.s3 import S3Server, running_s3


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    """A real S3 API (moto's server) that refuses unsigned and wrongly signed requests."""
    with running_s3() as server:
        yield server


def s3_store(server: S3Server, secret: str | None = None) -> storage.S3Storage:
    return storage.S3Storage(server.bucket, "uploads", server.client(secret))


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> storage.Storage:
    if request.param == "local":
        return storage.LocalStorage(tmp_path / "uploads")
    return s3_store(request.getfixturevalue("s3_server"))


def test_put_then_read_back_a_large_file_in_chunks(store):
    data = os.urandom(3 * storage.CHUNK + 12345)  # several chunks (S3: one part)
    assert store.put("files/ab/12cd", io.BytesIO(data)) == len(data)
    chunks = list(store.chunks("files/ab/12cd"))
    assert len(chunks) > 1 and all(len(c) <= storage.CHUNK for c in chunks)
    assert hashlib.sha256(b"".join(chunks)).digest() == hashlib.sha256(data).digest()
    assert store.exists("files/ab/12cd")


def test_put_file_stores_an_upload_and_takes_its_temporary_file(store, tmp_path):
    """A directory store renames the file from its scratch folder; S3 sends it from disk."""
    scratch = store.scratch_dir() or tmp_path
    upload = scratch / "blabber-upload-test"
    data = os.urandom(9 * 1024 * 1024)  # over one 8 MiB part: a multipart upload on S3
    upload.write_bytes(data)
    inode = upload.stat().st_ino
    assert store.put_file("f/moved", upload) == len(data)
    assert not upload.exists()
    assert (
        hashlib.sha256(b"".join(store.chunks("f/moved"))).digest() == hashlib.sha256(data).digest()
    )
    if isinstance(store, storage.LocalStorage):
        assert (store.root / "f" / "moved").stat().st_ino == inode  # moved, not copied
        assert scratch.parent == store.root  # the scratch folder is inside the store


def test_delete_and_missing_objects(store):
    store.put("files/gone", io.BytesIO(b"bye"))
    assert store.exists("files/gone")
    store.delete("files/gone")
    assert not store.exists("files/gone")
    with pytest.raises(storage.ObjectMissing):
        list(store.chunks("files/gone"))
    with pytest.raises(storage.ObjectMissing):
        list(store.chunks("files/never-there"))
    store.delete("files/never-there")  # no error


def test_keys_are_generated_never_paths(store):
    for key in ("../etc/passwd", "/abs", "Upper", "a//b", "a/../b", "", "x" * 300, "a b"):
        with pytest.raises(ValueError):
            store.put(key, io.BytesIO(b"x"))


def test_wrong_credentials_are_refused(s3_server):
    """A positive control first: the right key reads; a wrong secret gets a refusal."""
    good = s3_store(s3_server)
    good.put("files/secret", io.BytesIO(b"members only"))
    assert b"".join(good.chunks("files/secret")) == b"members only"
    bad = s3_store(s3_server, secret="not-the-secret")
    with pytest.raises(storage.StorageRefused):
        list(bad.chunks("files/secret"))
    with pytest.raises(storage.StorageRefused):
        bad.put("files/other", io.BytesIO(b"x"))


def test_a_failed_local_write_leaves_nothing_behind(tmp_path):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            raise OSError("disk gone")

    local = storage.LocalStorage(tmp_path / "uploads")
    with pytest.raises(OSError):
        local.put("files/half", Broken())
    assert not local.exists("files/half")
    assert list((tmp_path / "uploads" / "files").iterdir()) == []


def test_a_crashed_workers_partial_uploads_are_swept_and_live_ones_kept(tmp_path):
    local = storage.LocalStorage(tmp_path / "uploads")
    scratch = local.scratch_dir()
    abandoned, receiving = scratch / "blabber-upload-dead", scratch / "blabber-upload-live"
    abandoned.write_bytes(b"half a file")
    receiving.write_bytes(b"still coming")
    hour_ago = time.time() - 3601
    os.utime(abandoned, (hour_ago, hour_ago))
    local.put("f/kept", io.BytesIO(b"a stored file"))
    os.utime(local.root / "f" / "kept", (hour_ago, hour_ago))  # old, but not scratch
    assert local.sweep_scratch(3600) == 1
    assert not abandoned.exists() and receiving.exists()
    assert b"".join(local.chunks("f/kept")) == b"a stored file"


async def test_each_worker_sweeps_at_start(tmp_path, monkeypatch):
    from blabber.blabber import app
    from blabber.endpoints import uploads
    from blabber.services import file_store

    local = storage.LocalStorage(tmp_path / "uploads")
    monkeypatch.setattr(file_store, "get_storage", lambda: local)
    left = local.scratch_dir() / "blabber-upload-dead"
    left.write_bytes(b"half")
    os.utime(left, (time.time() - 7200, time.time() - 7200))
    assert uploads.sweep_abandoned_uploads in app.get_lifespan_tasks()
    await uploads.sweep_abandoned_uploads()
    assert not left.exists()


def test_the_url_chooses_the_store(tmp_path):
    local = storage.storage_from_url("file://data/uploads", project_root=tmp_path)
    assert isinstance(local, storage.LocalStorage) and local.root == tmp_path / "data/uploads"
    absolute = storage.storage_from_url(f"file://{tmp_path}/u", project_root=tmp_path)
    assert isinstance(absolute, storage.LocalStorage) and absolute.root == tmp_path / "u"
    s3 = storage.storage_from_url("s3://bucket/some/prefix", project_root=tmp_path)
    assert isinstance(s3, storage.S3Storage) and (s3.bucket, s3.prefix) == ("bucket", "some/prefix")
    assert Settings.from_env({}).storage_url == "file://data/uploads"
    assert Settings.from_env({}).upload_max_mb == 25
    for wrong in ("ftp://x", "s3://", "uploads"):
        with pytest.raises(ValueError, match="BLABBER_STORAGE_URL"):
            Settings.from_env({"BLABBER_STORAGE_URL": wrong})
