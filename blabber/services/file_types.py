"""What an uploaded file is, from its bytes (never the browser's word), and its shown name.

Raster pictures are recognised by Pillow (services.images); everything else
by ``puremagic`` (a maintained, pure-Python signature table: no libmagic to
install). Whatever could run in a browser (HTML, SVG, XML, scripts) is
served as ``application/octet-stream``, and every non-raster file is a
download anyway (endpoints.files); the type only helps the saving app.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import puremagic

GENERIC = "application/octet-stream"
SNIFF_BYTES = 8192
# Types a browser would render or run, sniffed or claimed: never served as themselves.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "application/xml",
        "text/xml",
        "application/javascript",
        "text/javascript",
        "application/x-shockwave-flash",
        "application/ecmascript",
    }
)
# The picture types served inline: only for files Pillow read as pictures (services.images).
SHOWN_INLINE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
NAME_MAX = 200
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def sniffed_type(path: Path, shown_name: str) -> str:
    """The content type to serve a non-picture with: sniffed; active content made generic."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if _looks_like_markup(head):
        return GENERIC
    try:
        kind = puremagic.from_string(head, mime=True, filename=shown_name)
    except (puremagic.PureError, ValueError):
        return "text/plain" if _is_text(head) else GENERIC
    kind = (kind or "").lower()
    if kind in SHOWN_INLINE:  # Pillow did not take it as a picture: never shown as one
        return GENERIC
    if not kind or kind in ACTIVE_TYPES or kind.startswith("text/"):
        return "text/plain" if kind.startswith("text/plain") else GENERIC
    return kind


def _looks_like_markup(head: bytes) -> bool:
    """Whether the file starts like HTML/SVG/XML (after a BOM and white space)."""
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    return text[:1] == b"<"


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:  # a character cut at the sniff's end is still text
        return err.start >= len(head) - 4
    return b"\x00" not in head


def shown_name(raw: str) -> str:
    """The file name people see and save: no path, no control or reserved characters.

    Never used as a storage key (those are generated); at most
    :data:`NAME_MAX` characters, keeping the extension; "file" when nothing is left.
    """
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(_UNSAFE_IN_NAME.sub(" ", name).split()).strip(". ")
    if not name:
        return "file"
    if len(name) > NAME_MAX:
        _stem, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext) <= 10 else ""
        name = name[: NAME_MAX - len(ext) - 1].rstrip() + ("." + ext if ext else "")
    return name


def files_label(names: Sequence[str]) -> str:
    """A message of files alone, in one line: "📎 plan.pdf and 2 more files" ("" for none).

    Quotes, toasts and search results say this where the text would be.
    """
    if not names:
        return ""
    more = len(names) - 1
    return f"📎 {names[0]}" + (f" and {more} more file{'s' * (more > 1)}" if more else "")


def size_label(size: int) -> str:
    """A byte count as people read it: "812 bytes", "14 KB", "3.2 MB"."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
