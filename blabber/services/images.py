"""Image work for uploads (Pillow): which files are pictures, cleaned copies, thumbnails, avatars.

Every function here decodes pixels, so each blocks and may take a while:
callers run them off the event loop, a few at a time (endpoints.uploads).

Bounded: an image is only decoded when its header says it has at most
:data:`MAX_PIXELS` pixels, so a small file that claims a huge canvas (a
decompression bomb) is never expanded; it is kept as a plain file instead.
Pillow's own guard is set to the same limit, and its warning is an error.
JPEGs are decoded at a reduced scale for thumbnails (``draft``).
"""

from __future__ import annotations

import dataclasses
import io
import warnings
from pathlib import Path

from PIL import Image, ImageOps

# 50 megapixels: a 48 MP phone photo still counts as a picture; decoding one
# takes ~150 MB for a moment, and at most two run at once per worker.
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
THUMB_BOX = (640, 480)  # the inline thumbnail fits here (shown at half that, sharp on HiDPI)
AVATAR_PX = 256
# The raster formats browsers show inline, by Pillow's name for them.
RASTER_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
_EXIF_ORIENTATION = 0x0112
_SWAPS_SIDES = {5, 6, 7, 8}  # orientations that turn the picture a quarter


class NotAnImage(Exception):
    """The file is not a raster image we show (or is too large to decode)."""


@dataclasses.dataclass(frozen=True)
class Picture:
    """What an upload is, as an image: its type and its size as shown (orientation applied)."""

    content_type: str
    width: int
    height: int


def _open(path: Path) -> Image.Image:
    """The image at ``path`` (header read only), or :class:`NotAnImage`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise NotAnImage(path.name) from None
    if image.format not in RASTER_TYPES or image.width * image.height > MAX_PIXELS:
        image.close()
        raise NotAnImage(path.name)
    return image


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block: show the pixels as stored
        return 1


def probe(path: Path) -> Picture:
    """What the picture at ``path`` is, without decoding it; :class:`NotAnImage` if it isn't one."""
    with _open(path) as image:
        width, height = image.size
        if _orientation(image) in _SWAPS_SIDES:
            width, height = height, width
        return Picture(RASTER_TYPES[image.format or ""], width, height)


def _has_metadata(image: Image.Image) -> bool:
    """Whether the file carries EXIF or XMP (where cameras put the location)."""
    info = image.info
    return bool(info.get("exif") or info.get("xmp") or info.get("XML:com.adobe.xmp")) or bool(
        len(image.getexif())
    )


def clean_copy(path: Path) -> Path | None:
    """A copy of the picture with orientation applied and no EXIF/XMP; None if it needs none.

    Decodes and re-encodes (JPEG at quality 90), so it is done only when the
    file has metadata. Animated images are left as they are (GIF carries no
    EXIF; an animated WebP's is kept: a known gap). The copy is written next
    to ``path``.
    """
    with _open(path) as image:
        if getattr(image, "is_animated", False) or not _has_metadata(image):
            return None
        kind = image.format or "PNG"
        upright = ImageOps.exif_transpose(image)
        upright.info.pop("exif", None)
        upright.info.pop("xmp", None)
        target = path.with_name(path.name + ".clean")
        options: dict = {"quality": 90} if kind in ("JPEG", "WEBP") else {}
        if kind == "JPEG" and upright.mode not in ("RGB", "L", "CMYK"):
            upright = upright.convert("RGB")
        upright.save(target, format=kind, **options)  # no exif= argument: none is written
        return target


def thumbnail(path: Path) -> bytes:
    """A WebP that fits :data:`THUMB_BOX` (first frame of an animation), orientation applied."""
    with _open(path) as image:
        if image.format == "JPEG":
            image.draft("RGB", (THUMB_BOX[0] * 2, THUMB_BOX[1] * 2))  # decode at 1/2..1/8 scale
        small = ImageOps.exif_transpose(image)
        small.thumbnail(THUMB_BOX)
        return _webp(small)


def avatar(path: Path) -> bytes:
    """A square :data:`AVATAR_PX` WebP of the picture's centre (a profile picture)."""
    with _open(path) as image:
        if image.format == "JPEG":
            image.draft("RGB", (AVATAR_PX * 2, AVATAR_PX * 2))
        upright = ImageOps.exif_transpose(image)
        square = ImageOps.fit(upright, (AVATAR_PX, AVATAR_PX))
        return _webp(square)


def _webp(image: Image.Image) -> bytes:
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert(
            "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
        )
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=82, method=4)  # no EXIF carried over
    return out.getvalue()
