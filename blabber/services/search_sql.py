"""Each database's full-text match for a :class:`~blabber.services.search_query.ParsedQuery`.

One function per backend returns the SQL pieces ``services/search.py`` puts
into its one query: the match condition, the rank and the snippet
expression, with every word of the person's query a bound parameter (never
spliced into SQL; on SQLite not into FTS5's own syntax either, see
:func:`_fts5_string`).

* **SQLite**: the FTS5 table ``messages_fts`` (migrations 0013 and 0017),
  external content over ``messages.body`` and ``messages.file_names``, porter
  stemming, diacritics removed. ``MATCH``
  takes one expression; ``snippet()`` marks the matched tokens.
* **PostgreSQL**: ``messages.search_vector`` (English stemming after
  ``unaccent``, configuration ``blabber_search``; the text and the files'
  names), GIN-indexed; each term is
  a ``phraseto_tsquery`` (a one-word phrase is that word), combined with
  ``&&``, ``||`` and ``!!``; ``ts_headline`` marks the matches.

The two agree on what matches (tests/test_search.py runs one table on both)
except where their stemmers or stop words differ: PostgreSQL's English
configuration ignores stop words ("the", "a"), so a query of stop words
alone finds nothing there and everything on SQLite. (PostgreSQL's parser
would also drop "<script>" as an HTML tag: it is given the text with "<"
read as a space, see LESS_THAN_STAND_IN.)

``marks`` are the strings that open and close a highlighted range: chosen
fresh for each search (``search.py``), so text in a message cannot forge them.
"""

from __future__ import annotations

import dataclasses

from blabber.services.search_query import ParsedQuery, Term

SNIPPET_TOKENS = 16  # SQLite: words of context in a snippet
PG_CONFIG = "blabber_search"
# ts_headline drops whatever its parser takes for an HTML tag ("<b>"), text
# and all; so it is given the text with "<" replaced by this private-use
# character, which search.py turns back. (Indexing reads "<" as a space for
# the same reason: migration 0013.)
LESS_THAN_STAND_IN = "\ue000"
# What PostgreSQL's snippet is cut from: the text, then the files' names (migration
# 0017 indexes both). In the names a zero-width space goes either side of each
# ".", "_" and "-": ts_headline's parser would read "q3-report.pdf" as one file
# token and mark nothing, where the index holds "report" too; search.py takes the
# zero-width spaces out again.
NAME_BREAK = "\u200b"
SHOWN_TEXT = (
    "concat_ws(' ', NULLIF(m.body, ''), NULLIF(regexp_replace(m.file_names, '([._-])', "
    f"'{NAME_BREAK}\\1{NAME_BREAK}', 'g'), ''))"
)


@dataclasses.dataclass(frozen=True)
class TextMatch:
    """SQL fragments for the words of a query (all parameters in ``params``).

    ``join`` goes after ``FROM messages m``; ``where`` is ANDed into the
    query; ``rank`` orders by best match (smaller is better); ``snippet``
    is a text expression with the marks around matched words.
    """

    join: str
    where: str
    rank: str
    snippet: str
    params: dict[str, object]
    # The message id as this backend orders it fastest (newest first, paging).
    id_column: str = "m.id"

    # A character the snippet has in place of "<" (to be turned back), or "".
    less_than_stand_in: str = ""
    # A character only the snippet's making put in (to be taken out), or "".
    added_to_snippet: str = ""


def _fts5_string(term: Term) -> str:
    """A term as an FTS5 string literal: ``"…"`` with inner quotes doubled.

    Inside a string FTS5 reads no operators, so ``OR``, ``NEAR``, ``*``,
    ``:`` or ``-`` typed by a person are just characters its tokenizer
    splits on; the string is a phrase of the tokens it holds.
    """
    return '"' + term.text.replace('"', '""') + '"'


def sqlite_match(query: ParsedQuery, marks: tuple[str, str]) -> TextMatch:
    """FTS5: ``required`` groups ANDed, each an OR of strings; ``NOT`` the excluded ones."""
    groups = ["(" + " OR ".join(_fts5_string(t) for t in g) + ")" for g in query.required]
    expression = " AND ".join(groups)
    if query.excluded:
        expression += " NOT (" + " OR ".join(_fts5_string(t) for t in query.excluded) + ")"
    return TextMatch(
        join="JOIN messages_fts ON messages_fts.rowid = m.id",
        where="messages_fts MATCH :fts",
        rank="bm25(messages_fts)",
        # Column -1: the one that matched best, the text or the files' names.
        snippet=(f"snippet(messages_fts, -1, :mark_open, :mark_close, '…', {SNIPPET_TOKENS})"),
        params={"fts": expression, "mark_open": marks[0], "mark_close": marks[1]},
        # FTS5 hands matches out in rowid order itself (descending when asked),
        # so "newest first, LIMIT 21" stops after 21 instead of sorting them all.
        id_column="messages_fts.rowid",
    )


def postgres_match(query: ParsedQuery, marks: tuple[str, str]) -> TextMatch:
    """tsquery: each term a ``phraseto_tsquery`` parameter, combined with the operators."""
    params: dict[str, object] = {}

    def tsquery(term: Term) -> str:
        name = f"t{len(params)}"
        params[name] = term.text
        return f"phraseto_tsquery('{PG_CONFIG}', :{name})"

    groups = ["(" + " || ".join(tsquery(t) for t in g) + ")" for g in query.required]
    expression = " && ".join(groups)
    if query.excluded:
        expression += " && !!(" + " || ".join(tsquery(t) for t in query.excluded) + ")"
    # Options of ts_headline are a string; the marks are random hex between
    # control characters (search.new_marks), so they need no quoting beyond "…".
    options = (
        f'StartSel="{marks[0]}", StopSel="{marks[1]}", MaxWords=24, MinWords=10, '
        'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
    )
    params["headline_options"] = options
    return TextMatch(
        join="",
        where=f"m.search_vector @@ ({expression})",
        rank=f"-ts_rank(m.search_vector, ({expression}))",
        snippet=(
            f"ts_headline('{PG_CONFIG}', replace({SHOWN_TEXT}, '<', :stand_in), ({expression}), "
            ":headline_options)"
        ),
        params={**params, "stand_in": LESS_THAN_STAND_IN},
        less_than_stand_in=LESS_THAN_STAND_IN,
        added_to_snippet=NAME_BREAK,
    )
