"""Receiving an upload's bytes and turning them into stored objects, in bounded memory.

The body streams to a temporary file (1 MiB written at a time, off the
event loop), never held whole in memory; a body over the limit is cut off
as soon as it passes it. Taking the bytes in is event-loop work, so a
worker takes them no faster than ``BLABBER_UPLOAD_WORKER_MB_S`` for all its
uploads together (after a burst of one largest file): while the cap holds,
Uvicorn stops reading the sockets and TCP slows the senders.

Everything after that (sniffing, picture work, the store's ``put_file``, a
rename for a directory store) runs on this module's small thread pool,
with at most :data:`PICTURE_SLOTS` pictures decoded at once per worker, so uploads can
neither stall chat's event loop nor starve the database threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import os
import secrets
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from aiolimiter import AsyncLimiter
from starlette.requests import ClientDisconnect, Request

from blabber.services import file_store, images
from blabber.services.file_store import delete_now
from blabber.services.file_types import sniffed_type
from blabber.services.files import StoredFile
from blabber.settings import get_settings

T = TypeVar("T")
WRITE_BYTES = 1024 * 1024
PICTURE_SLOTS = 2
ABANDONED_AFTER_S = 3600  # a partial upload untouched this long has no worker writing it
log = logging.getLogger(__name__)
_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="blabber-files")
_PICTURES = threading.BoundedSemaphore(PICTURE_SLOTS)


class TooLarge(Exception):
    """The body passed the limit (it was not kept)."""


class Interrupted(Exception):
    """The browser went away before the whole body arrived (nothing was kept)."""


async def off_loop(fn: Callable[..., T], *args: object) -> T:
    """Run blocking file work on the file threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_THREADS, functools.partial(fn, *args))


async def sweep_abandoned_uploads() -> None:
    """Lifespan step: remove half-received uploads a crashed worker left in the store's folder."""
    try:
        swept = await off_loop(file_store.get_storage().sweep_scratch, ABANDONED_AFTER_S)
    except Exception:  # housekeeping: never a reason not to start
        log.warning("sweeping abandoned uploads failed", exc_info=True)
        return
    if swept:
        log.info("removed %d abandoned partial uploads", swept)


def new_key(kind: str) -> str:
    """A fresh storage key (``f/`` files, ``t/`` thumbnails, ``a/`` pictures), never a name."""
    return f"{kind}/{secrets.token_hex(16)}"


@contextlib.asynccontextmanager
async def received(request: Request, max_bytes: int) -> AsyncIterator[tuple[Path, int]]:
    """The request body in a temporary file, and its size; the file is removed afterwards.

    Raises :class:`TooLarge` past ``max_bytes`` and :class:`Interrupted` if
    the browser stops sending.
    """
    # In the store's scratch folder when it has one, so storing is a rename.
    scratch = file_store.get_storage().scratch_dir()
    fd, name = tempfile.mkstemp(prefix="blabber-upload-", dir=scratch)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            size = await _copy_body(request, out, max_bytes)
        yield path, size
    finally:
        for leftover in (path, path.with_name(path.name + ".clean")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


_bandwidth_of_loop: dict[asyncio.AbstractEventLoop, AsyncLimiter | None] = {}


def _bandwidth() -> AsyncLimiter | None:
    """This worker's cap on upload bytes (None: uncapped), one per event loop.

    The bucket holds one largest file, so a lone upload goes at full speed;
    it drains at ``upload_worker_mb_s``. Uploads share it in arrival order.
    """
    loop = asyncio.get_running_loop()
    if loop not in _bandwidth_of_loop:
        settings = get_settings()
        rate = settings.upload_worker_mb_s * 1_000_000
        burst = max(settings.upload_max_mb * 1024 * 1024, WRITE_BYTES)
        _bandwidth_of_loop.clear()  # an earlier loop's (tests) is of no use any more
        _bandwidth_of_loop[loop] = AsyncLimiter(burst, burst / rate) if rate > 0 else None
    return _bandwidth_of_loop[loop]


async def _copy_body(request: Request, out, max_bytes: int) -> int:
    size, pending = 0, bytearray()
    bandwidth = _bandwidth()

    async def write() -> None:
        if bandwidth is not None:
            await bandwidth.acquire(min(len(pending), bandwidth.max_rate))
        await off_loop(out.write, bytes(pending))
        pending.clear()

    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(size)
            pending += chunk
            if len(pending) >= WRITE_BYTES:
                await write()
    except ClientDisconnect:
        raise Interrupted() from None
    if pending:
        await write()
    return size


def store_file(path: Path, name: str, size: int) -> StoredFile:
    """Store an upload (blocking): a picture cleaned of its metadata, with a thumbnail.

    A picture is a PNG, JPEG, GIF or WebP that Pillow reads within the pixel
    limit; anything else is stored as it came, with its sniffed type.
    """
    store = file_store.get_storage()
    picture, thumb_bytes, source = _picture_work(path)
    content_type = picture.content_type if picture else sniffed_type(path, name)
    key = new_key("f")
    thumb_key = new_key("t") if picture is not None else None
    stored_size = store.put_file(key, source)  # source is moved or removed
    try:
        if thumb_key:
            store.put(thumb_key, io.BytesIO(thumb_bytes))
    except BaseException:
        delete_now([key])
        raise
    if picture is None:
        return StoredFile(name, content_type, size, key)
    return StoredFile(
        name, content_type, stored_size, key, thumb_key, picture.width, picture.height
    )


def _picture_work(path: Path) -> tuple[images.Picture | None, bytes, Path]:
    """The picture's facts, its thumbnail and the file to store; no picture: (None, b"", path)."""
    try:
        with _PICTURES:
            picture = images.probe(path)
            source = images.clean_copy(path) or path
            return picture, images.thumbnail(source), source
    except images.NotAnImage:
        return None, b"", path
    except (OSError, ValueError, SyntaxError):  # truncated or corrupt pixels: keep it as a file
        return None, b"", path


def store_avatar(path: Path) -> str:
    """Store a profile picture made from the upload (blocking); NotAnImage if it is none."""
    try:
        with _PICTURES:
            data = images.avatar(path)
    except (OSError, ValueError, SyntaxError):  # truncated or corrupt pixels
        raise images.NotAnImage(path.name) from None
    key = new_key("a")
    file_store.get_storage().put(key, io.BytesIO(data))
    return key
