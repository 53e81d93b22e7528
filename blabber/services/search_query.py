"""The search box's query language, parsed once for both databases (pure; no I/O).

What a person may type::

    deploy staging          both words (stemmed: "deploying" finds "deployed")
    "exact phrase"          those words in that order
    -word  -"a phrase"      without it
    cats OR dogs            either (binds tighter than the implicit AND)
    from:alice  in:ops  in:bob (the conversation with bob)
    before:2026-12-01  after:2026-11-01  on:2026-11-15
    has:link  has:file  is:mention

Nothing typed is ever an error page: an unbalanced quote reads as a phrase
to the end, a lone ``OR`` or ``-`` is ignored, an unknown ``key:value`` is
searched as words, and over-long input is cut (each with a note saying so).
What cannot be read at all (a date that is not ``YYYY-MM-DD``, an empty
``from:``) raises :class:`QueryError` with the sentence to show.

The parser produces terms, not SQL: ``services/search_sql.py`` turns a
:class:`ParsedQuery` into each backend's own full-text syntax, always through
bound parameters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from blabber.services.errors import ServiceError

MAX_QUERY_CHARS = 500
MAX_TERMS = 12
FILTERS = ("from", "in", "before", "after", "on", "has", "is")
HAS_VALUES = ("link", "file")
IS_VALUES = ("mention",)
# One token: an optional minus, then a quoted run (to the closing quote or the
# end) or a bare run, where a bare run may be ``key:"quoted value"``.
_TOKEN = re.compile(r'(-?)(?:"([^"]*)("?)|([^\s"]+:"[^"]*"?|[^\s"]+))')
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class QueryError(ServiceError):
    """A query that cannot be read; the message says how to write it."""


@dataclasses.dataclass(frozen=True)
class Term:
    """Words to find: one word, or a phrase (its words in order). Never empty."""

    text: str
    phrase: bool = False


@dataclasses.dataclass(frozen=True)
class ParsedQuery:
    """A query, ready for either backend.

    ``required``: groups that must all match; the terms of one group are
    alternatives (``a OR b``). ``excluded``: terms no result may contain.
    """

    required: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()
    from_user: str = ""
    in_place: str = ""
    before: dt.date | None = None
    after: dt.date | None = None
    on: dt.date | None = None
    has_link: bool = False
    has_file: bool = False
    is_mention: bool = False
    notes: tuple[str, ...] = ()

    @property
    def has_text(self) -> bool:
        """Whether any words must match (else the filters alone choose the messages)."""
        return bool(self.required)

    @property
    def is_empty(self) -> bool:
        """Nothing to search for: no words, no filter (exclusions alone do not count)."""
        filters = (self.from_user, self.in_place, self.before, self.after, self.on)
        flags = (self.has_link, self.has_file, self.is_mention)
        return not self.required and not any(filters) and not any(flags)


def _date(key: str, value: str) -> dt.date:
    if _DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise QueryError(f"{key}: needs a date like 2026-12-03")


def _unquote(value: str) -> str:
    return value[1:].rstrip('"') if value.startswith('"') else value


def parse(text: object) -> ParsedQuery:
    """Read what was typed in ``Search messages``."""
    raw = text if isinstance(text, str) else ""
    notes: list[str] = []
    if len(raw) > MAX_QUERY_CHARS:
        raw = raw[:MAX_QUERY_CHARS]
        notes.append(f"Only the first {MAX_QUERY_CHARS} characters were searched")
    raw = raw.replace("\x00", " ")
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    filters: dict[str, list[str]] = {}
    join_next = False  # the previous token was OR
    terms = 0
    for match in _TOKEN.finditer(raw):
        minus, quoted, closing, bare = match.groups()
        if quoted is not None:
            if not closing:
                notes.append("A quote was not closed: the rest was read as one phrase")
            term_text, phrase = " ".join(quoted.split()), True
        else:
            key, sep, value = bare.partition(":")
            if sep and key.lower() in FILTERS and not minus:
                value = _unquote(value).strip()
                if not value:
                    raise QueryError(f"{key.lower()}: needs something after the colon")
                filters.setdefault(key.lower(), []).append(value)
                join_next = False
                continue
            if bare == "OR" and not minus:
                join_next = bool(groups)
                continue
            term_text, phrase = bare, False
        if not term_text.strip("-"):
            continue
        if terms >= MAX_TERMS:
            notes.append(f"Only the first {MAX_TERMS} words or phrases were searched")
            break
        terms += 1
        term = Term(term_text, phrase)
        if minus:
            excluded.append(term)
            join_next = False
        elif join_next and groups:
            groups[-1].append(term)
            join_next = False
        else:
            groups.append([term])
    return _with_filters(groups, excluded, filters, notes)


def _with_filters(
    groups: list[list[Term]], excluded: list[Term], filters: dict[str, list[str]], notes: list[str]
) -> ParsedQuery:
    def last(key: str) -> str:  # a filter given twice: the later one counts
        return filters.get(key, [""])[-1]

    has = {v.lower() for v in filters.get("has", [])}
    if has - set(HAS_VALUES):
        raise QueryError("has: can be has:link or has:file")
    is_ = {v.lower() for v in filters.get("is", [])}
    if is_ - set(IS_VALUES):
        raise QueryError("is: can be is:mention")
    return ParsedQuery(
        required=tuple(tuple(g) for g in groups),
        excluded=tuple(excluded),
        from_user=last("from").removeprefix("@"),
        in_place=last("in").removeprefix("#").removeprefix("@"),
        before=_date("before", last("before")) if "before" in filters else None,
        after=_date("after", last("after")) if "after" in filters else None,
        on=_date("on", last("on")) if "on" in filters else None,
        has_link="link" in has,
        has_file="file" in has,
        is_mention="mention" in is_,
        notes=tuple(dict.fromkeys(notes)),
    )
