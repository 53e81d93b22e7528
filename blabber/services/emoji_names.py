"""Finding an emoji by name for the ``React`` picker's search.

Names come from the ``emoji`` package (Unicode's CLDR short names and the
common aliases, e.g. ``thumbs up``, ``+1``, ``tada``). Skin-tone variants
are left out of the results: the picker offers each emoji once.
"""

from __future__ import annotations

import functools

import emoji as emoji_data

MAX_RESULTS = 24
MAX_QUERY_CHARS = 40


@functools.cache
def _index() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(emoji, display name, searchable names) for every fully qualified emoji, once."""
    entries = []
    qualified = emoji_data.STATUS["fully_qualified"]
    for char, data in emoji_data.EMOJI_DATA.items():
        if data.get("status") != qualified or "skin_tone" in data["en"]:
            continue
        names = (data["en"], *data.get("alias", ()))
        plain = tuple(n.strip(":").replace("_", " ").lower() for n in names)
        entries.append((char, plain[0], plain))
    return tuple(entries)


def search_emoji(query: object, limit: int = MAX_RESULTS) -> list[tuple[str, str]]:
    """Up to ``limit`` ``(emoji, name)`` pairs whose name matches ``query``, best first.

    The exact name ranks first, then a name starting with the query, then a word of it starting
    with it, then the query anywhere in it; an empty query finds nothing.
    """
    if not isinstance(query, str):
        return []
    words = query.strip().lower().replace("_", " ")[:MAX_QUERY_CHARS]
    if not words:
        return []
    ranked: list[tuple[int, int, str, str]] = []
    for order, (char, name, names) in enumerate(_index()):
        rank = min(_rank(n, words) for n in names)
        if rank < 3:
            ranked.append((rank, order, char, name))
    ranked.sort()
    return [(char, name) for _, _, char, name in ranked[:limit]]


def _rank(name: str, query: str) -> int:
    if name == query:
        return -1
    if name.startswith(query):
        return 0
    if f" {query}" in name:
        return 1
    return 2 if query in name else 3
