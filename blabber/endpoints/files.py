"""Uploads and downloads over plain HTTP: files in messages, thumbnails, profile pictures.

Not Reflex's ``/_upload``: its static mount serves every file to whoever
guesses a name, and an upload must be able to reach any worker. Here any
worker takes an upload (the store is shared: a directory on one machine,
or S3 for several) and every download asks the database who may read it,
by the session cookie, on each request. A session check, not signed URLs:
leaving or being removed from a room ends access at the next request, with
no URL lifetime to wait out, and it works the same on a directory or a
bucket. Anyone else gets 404, whether or not the file exists.

Served with ``X-Content-Type-Options: nosniff`` and a sandboxing CSP; only
the raster pictures (PNG, JPEG, GIF, WebP, as Pillow read them) are shown
inline, everything else is ``Content-Disposition: attachment``.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from blabber import db, routes
from blabber.endpoints import uploads
from blabber.endpoints.common import WRONG_ORIGIN, answer, origin_allowed, refused, signed_in_user
from blabber.services import avatars, file_store, files, images
from blabber.services.errors import NotAllowed, NotFound, ServiceError
from blabber.services.file_store import delete_now
from blabber.services.file_types import shown_name
from blabber.settings import get_settings
from blabber.storage import ObjectMissing

log = logging.getLogger(__name__)
# A downloaded file runs nothing, even if a browser were to render it.
FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
LOG_IN = "Please log in again"
UNAVAILABLE = "Uploading is unavailable right now; try again in a moment"
NOT_A_PICTURE = "Choose a PNG, JPEG, GIF or WebP picture"


def _limit_refusal(request: Request, max_mb: int) -> JSONResponse | None:
    """A refusal before reading the body when it says it is too big (or says nothing)."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        return refused(411, "The upload did not say its size; try again")
    if int(length) > max_mb * 1024 * 1024:
        return refused(413, f"That file is too large; the limit is {max_mb} MB")
    if int(length) == 0:
        return refused(400, "That file is empty")
    return None


async def upload_file(request: Request) -> Response:
    """``POST /api/files?room=<id>``: the raw file as the body, ``X-File-Name`` its name."""
    settings = get_settings()
    if not origin_allowed(request, settings):
        return refused(403, WRONG_ORIGIN)
    me = await signed_in_user(request)
    if me is None:
        return refused(401, LOG_IN)
    too_big = _limit_refusal(request, settings.upload_max_mb)
    if too_big is not None:
        return too_big
    raw_room = request.query_params.get("room", "")
    room = int(raw_room) if raw_room.isascii() and raw_room.isdigit() and len(raw_room) < 18 else 0
    name = shown_name(urllib.parse.unquote(request.headers.get("x-file-name", ""))[:1000])
    try:
        await db.run_in_session(files.check_upload, me.user_id, room)
    except NotFound as err:
        return refused(404, err.message)
    except ServiceError as err:
        return refused(403 if isinstance(err, NotAllowed) else 429, err.message)
    stored = None
    try:
        async with uploads.received(request, settings.upload_max_mb * 1024 * 1024) as (path, size):
            if size == 0:
                return refused(400, "That file is empty")
            stored = await uploads.off_loop(uploads.store_file, path, name, size)
        view = await db.run_in_session(files.record_upload, me.user_id, room, stored)
    except uploads.TooLarge:
        return refused(413, f"That file is too large; the limit is {settings.upload_max_mb} MB")
    except uploads.Interrupted:
        return refused(400, "The upload was interrupted; try again")
    except ServiceError as err:  # e.g. removed from the room while uploading
        await uploads.off_loop(delete_now, [stored.storage_key, stored.thumb_key] if stored else [])
        return refused(403, err.message)
    except Exception:  # the store or the database failed: nothing is kept
        log.exception("upload failed")
        if stored is not None:
            await uploads.off_loop(delete_now, [stored.storage_key, stored.thumb_key])
        return refused(503, UNAVAILABLE)
    return answer(
        200,
        {
            "ok": True,
            "file": {"id": view.id, "name": view.name, "size": view.size, "image": view.image},
        },
    )


def _not_found() -> Response:
    return Response(
        "Not found", status_code=404, media_type="text/plain", headers={"Cache-Control": "no-store"}
    )


async def _stream(key: str, content_type: str, headers: dict[str, str]) -> Response:
    """The stored object as a response, a chunk at a time; 404 if the store has none."""
    chunks = file_store.get_storage().chunks(key)
    try:
        first = await uploads.off_loop(next, chunks, b"")
    except ObjectMissing:
        return _not_found()

    def rest() -> Iterator[bytes]:
        if first:
            yield first
        yield from chunks

    # A sync iterator: Starlette reads it on a worker thread, never on the loop.
    return StreamingResponse(rest(), media_type=content_type, headers=headers)


def _file_headers(etag: str, disposition: str, cache: str = "private, no-cache") -> dict[str, str]:
    return {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_POLICY,
        "Content-Disposition": disposition,
        "Cache-Control": cache,
        "ETag": etag,
    }


def _disposition(kind: str, name: str) -> str:
    quoted = urllib.parse.quote(name, safe="")
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"


async def _readable(request: Request, file_id: int):
    me = await signed_in_user(request)
    if me is None:
        return None
    try:
        return await db.run_in_session(files.readable_file, me.user_id, file_id)
    except ServiceError:
        return None


async def download_file(request: Request) -> Response:
    """``GET /api/files/<id>/<name>``: the file, for whoever may read it now; else 404."""
    row = await _readable(request, request.path_params["file_id"])
    if row is None:
        return _not_found()
    etag = f'"{row.storage_key.rsplit("/", 1)[-1]}"'
    inline = bool(row.thumb_key)  # a picture Pillow read (endpoints.uploads.store_file)
    headers = _file_headers(etag, _disposition("inline" if inline else "attachment", row.name))
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return await _stream(row.storage_key, row.content_type, headers)


async def download_thumb(request: Request) -> Response:
    """``GET /api/thumbs/<id>``: a picture's thumbnail (WebP), on the same terms as the file."""
    row = await _readable(request, request.path_params["file_id"])
    if row is None or not row.thumb_key:
        return _not_found()
    etag = f'"{row.thumb_key.rsplit("/", 1)[-1]}"'
    headers = _file_headers(etag, "inline")
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return await _stream(row.thumb_key, "image/webp", headers)


async def upload_avatar(request: Request) -> Response:
    """``POST /api/avatar``: a picture as the body becomes my profile picture (256 px WebP)."""
    settings = get_settings()
    if not origin_allowed(request, settings):
        return refused(403, WRONG_ORIGIN)
    me = await signed_in_user(request)
    if me is None:
        return refused(401, LOG_IN)
    limit = min(avatars.MAX_MB, settings.upload_max_mb)
    too_big = _limit_refusal(request, limit)
    if too_big is not None:
        return too_big
    key = ""
    try:
        await db.run_in_session(avatars.check_change, me.user_id)  # before any bytes come
    except ServiceError as err:
        return refused(429 if err.message == avatars.TOO_SOON else 403, err.message)
    try:
        async with uploads.received(request, limit * 1024 * 1024) as (path, _size):
            key = await uploads.off_loop(uploads.store_avatar, path)
        await db.run_in_session(avatars.set_avatar, me.user_id, key)
    except uploads.TooLarge:
        return refused(413, f"That picture is too large; the limit is {limit} MB")
    except uploads.Interrupted:
        return refused(400, "The upload was interrupted; try again")
    except images.NotAnImage:
        return refused(400, NOT_A_PICTURE)
    except ServiceError as err:
        await uploads.off_loop(delete_now, [key])
        return refused(403, err.message)
    except Exception:
        log.exception("profile picture upload failed")
        await uploads.off_loop(delete_now, [key])
        return refused(503, UNAVAILABLE)
    return answer(200, {"ok": True, "url": routes.avatar_path(me.user_id, key)})


async def download_avatar(request: Request) -> Response:
    """``GET /api/avatars/<user id>/<version>``: a profile picture, for anyone signed in."""
    me = await signed_in_user(request)
    if me is None:
        return _not_found()
    user_id, version = request.path_params["user_id"], request.path_params["version"]
    try:
        key = await db.run_in_session(avatars.avatar_key, me.user_id, user_id, version)
    except ServiceError:
        return _not_found()
    # The URL changes with the picture, so a browser may keep it for long.
    headers = _file_headers(f'"{version}"', "inline", "private, max-age=86400, immutable")
    return await _stream(key, "image/webp", headers)


ROUTES = (
    (routes.FILE_UPLOAD, upload_file, "POST"),
    (routes.FILE, download_file, "GET"),
    (routes.THUMB, download_thumb, "GET"),
    (routes.AVATAR_UPLOAD, upload_avatar, "POST"),
    (routes.AVATAR, download_avatar, "GET"),
)
