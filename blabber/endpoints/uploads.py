"""Receiving an upload's bytes and turning them into stored objects, in bounded memory.

The body streams to a temporary file (1 MiB written at a time, off the
event loop), never held whole in memory; a body over the limit is cut off
as soon as it passes it. Everything after that (sniffing, picture work,
the store's ``put_file``, a rename for a directory store) runs on this
module's small thread pool, with at most
:data:`PICTURE_SLOTS` pictures decoded at once per worker, so uploads can
neither stall chat's event loop nor starve the database threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import os
import secrets
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from starlette.requests import ClientDisconnect, Request

from blabber.services import file_store, images
from blabber.services.file_store import delete_now
from blabber.services.file_types import sniffed_type
from blabber.services.files import StoredFile

T = TypeVar("T")
WRITE_BYTES = 1024 * 1024
PICTURE_SLOTS = 2
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


async def _copy_body(request: Request, out, max_bytes: int) -> int:
    size, pending = 0, bytearray()
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(size)
            pending += chunk
            if len(pending) >= WRITE_BYTES:
                await off_loop(out.write, bytes(pending))
                pending.clear()
    except ClientDisconnect:
        raise Interrupted() from None
    if pending:
        await off_loop(out.write, bytes(pending))
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
