"""Search messages: everything I can read now, newest first or best match first.

"What I can read" is decided inside the query itself: a message is a
candidate only through a join on *my current* membership of its room, so a
room I left or was kicked from, a conversation I am not in and a private
room I was never added to are outside every search, at once. Only
user-written, undeleted messages are indexed (the index's own triggers keep
edits and deletions in step, migration 0013), and a deleted message's text
is erased anyway.

A search is two queries: the page of hits (ids, in order, ``PAGE + 1`` to
know whether more follow), then the snippets of just those hits, so
highlighting never runs over every match. Snippets come back as escaped-text
segments (:class:`Segment`), never HTML: the marks are strings chosen afresh
for each search, split off here, and the page renders each piece as text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from blabber import routes
from blabber.models import Membership, Room, RoomKind, User, UTCDateTime
from blabber.services import search_query, search_sql
from blabber.services.account_settings import DELETED_NAME
from blabber.services.errors import ServiceError
from blabber.services.message_views import excerpt
from blabber.services.search_query import ParsedQuery

PAGE = 20
BEST_CANDIDATES = 500  # Best match ranks this many of the newest matches
NEWEST, BEST = "newest", "best"
EMPTY = "Type a word to search for, or a filter such as from:username"
PLAIN_SNIPPET_CHARS = 200  # a filter-only hit shows the start of its text
RESULT_COLUMNS = (
    "snippet",
    "username",
    "display_name",
    "name",
    "kind",
    "is_private",
    "name_key",
    "file_names",
)
DATE_PARAMS = ("before", "after", "on_start", "on_end")  # bound as the column's own type


@dataclasses.dataclass(frozen=True)
class Segment:
    """A piece of a snippet: text to show as it is, highlighted or not."""

    text: str
    marked: bool = False


@dataclasses.dataclass(frozen=True)
class SearchHit:
    """One message found, as a result row shows it."""

    message_id: int
    place: str  # the room's name, or the conversation's other people
    direct: bool
    url: str  # the message's permalink (opens it highlighted in context)
    author: str
    author_display: str
    created_at: str  # ISO 8601, UTC; the page shows it in the viewer's zone
    segments: tuple[Segment, ...]


@dataclasses.dataclass(frozen=True)
class SearchPage:
    """A page of hits; ``next_cursor`` (0 when none) asks for the next one."""

    hits: tuple[SearchHit, ...]
    next_cursor: int = 0
    notes: tuple[str, ...] = ()


def new_marks() -> tuple[str, str]:
    """Fresh highlight marks: control characters around random hex nobody can guess."""
    nonce = secrets.token_hex(6)
    return f"\x02{nonce}\x02", f"\x03{nonce}\x03"


def segments_of(snippet: str, marks: tuple[str, str]) -> tuple[Segment, ...]:
    """Split a marked snippet into segments (unpaired marks: the rest stays unmarked)."""
    opening, closing = marks
    pieces: list[Segment] = []
    rest = snippet
    while rest:
        start = rest.find(opening)
        if start < 0:
            pieces.append(Segment(rest))
            break
        end = rest.find(closing, start + len(opening))
        if end < 0:
            pieces.append(Segment(rest.replace(opening, "")))
            break
        if start:
            pieces.append(Segment(rest[:start]))
        pieces.append(Segment(rest[start + len(opening) : end], marked=True))
        rest = rest[end + len(closing) :]
    return tuple(p for p in pieces if p.text)


def search(
    session: Session, user_id: int, text: object, *, order: str = NEWEST, cursor: int = 0
) -> SearchPage:
    """The page of messages matching ``text`` that ``user_id`` may read now."""
    query = search_query.parse(text)
    if query.is_empty:
        raise ServiceError(EMPTY)
    me = session.get(User, user_id)
    if me is None:
        raise ServiceError(EMPTY)
    dialect = session.get_bind().dialect.name
    marks = new_marks()
    match = None
    if query.has_text:
        builder = search_sql.postgres_match if dialect == "postgresql" else search_sql.sqlite_match
        match = builder(query, marks)
    conditions, params = _filters(session, me, query)
    best = order == BEST and match is not None
    cursor = max(0, int(cursor)) if isinstance(cursor, int) else 0
    id_column = match.id_column if match else "m.id"
    if cursor and not best:
        conditions.append(f"{id_column} < :cursor")
        params["cursor"] = cursor
    # Every fragment is this module's or search_sql's own text; the person's
    # words and names reach the database only as bound parameters.
    newest = f"""
        SELECT m.id AS id{", " + match.rank + " AS rank" if best and match else ""}
        FROM messages m {match.join if match else ""}
        JOIN memberships mine ON mine.room_id = m.room_id AND mine.user_id = :me
        WHERE m.kind = 'user' AND m.deleted_at IS NULL
          {"AND " + match.where if match else ""}
          {"".join(" AND " + c for c in conditions)}
        ORDER BY {id_column} DESC
    """  # noqa: S608
    # Best match ranks the newest BEST_CANDIDATES matches: ranking every match
    # of a word in most messages took 200-600 ms at a million (bench/RESULTS.md §14).
    ranked = "SELECT id FROM ({newest} LIMIT :candidates) candidates ORDER BY rank, id DESC"
    sql = (ranked.format(newest=newest) if best else newest) + " LIMIT :limit OFFSET :offset"
    params.update(
        me=user_id, limit=PAGE + 1, offset=cursor if best else 0, candidates=BEST_CANDIDATES
    )
    if match:
        params.update(match.params)
    statement = sa.text(sql).bindparams(
        *(sa.bindparam(name, type_=UTCDateTime()) for name in DATE_PARAMS if name in params)
    )
    ids = [row[0] for row in session.execute(statement, params)]
    more, ids = len(ids) > PAGE, ids[:PAGE]
    hits = _hits(session, user_id, ids, match, marks)
    if more:
        next_cursor = cursor + PAGE if best else ids[-1]
    else:
        next_cursor = 0
    return SearchPage(hits, next_cursor, query.notes)


def _filters(session: Session, me: User, query: ParsedQuery) -> tuple[list[str], dict]:
    """SQL conditions (on ``m``) and parameters for the query's filters."""
    conditions: list[str] = []
    params: dict[str, object] = {}
    if query.from_user:
        author = session.exec(
            select(User.id).where(User.username_key == query.from_user.lower())
        ).first()
        if author is None:
            raise ServiceError(f"No one is called {query.from_user}")
        conditions.append("m.author_id = :from_id")
        params["from_id"] = author
    if query.in_place:
        conditions.append("m.room_id = :in_room")
        params["in_room"] = _place_id(session, me.id or 0, query.in_place)
    zone = _zone(me.time_zone)
    day = dt.timedelta(days=1)
    if query.before:
        conditions.append("m.created_at < :before")
        params["before"] = _start_of(query.before, zone)
    if query.after:
        conditions.append("m.created_at >= :after")
        params["after"] = _start_of(query.after + day, zone)
    if query.on:
        conditions.append("m.created_at >= :on_start AND m.created_at < :on_end")
        params["on_start"] = _start_of(query.on, zone)
        params["on_end"] = _start_of(query.on + day, zone)
    if query.has_link:
        conditions.append("(m.body LIKE '%http://%' OR m.body LIKE '%https://%')")
    if query.has_file:  # ix_attachments_message_id: one probe per candidate
        conditions.append("EXISTS (SELECT 1 FROM attachments f WHERE f.message_id = m.id)")
    if query.is_mention:
        conditions.append(
            "EXISTS (SELECT 1 FROM mentions x WHERE x.message_id = m.id AND x.user_id = :me)"
        )
    return conditions, params


def _place_id(session: Session, user_id: int, name: str) -> int:
    """``in:`` names a room I am in (by its name), or my conversation with one person."""
    key = name.lower()
    room_id = session.exec(
        select(Room.id)
        .join(Membership, col(Membership.room_id) == Room.id)
        .where(
            Membership.user_id == user_id,
            Room.kind == RoomKind.ROOM.value,
            sa.func.lower(Room.name) == key,
        )
    ).first()
    if room_id is None:
        room_id = _direct_with(session, user_id, key)
    if room_id is None:  # the same answer whether or not such a room exists
        raise ServiceError(f"You are not in a room or conversation called {name}")
    return room_id


def _direct_with(session: Session, user_id: int, username_key: str) -> int | None:
    other = session.exec(select(User.id).where(User.username_key == username_key)).first()
    if other is None or other == user_id:
        return None
    from blabber.services.conversations import direct_key

    return session.exec(
        select(Room.id)
        .join(Membership, col(Membership.room_id) == Room.id)
        .where(Room.name_key == direct_key({user_id, other}), Membership.user_id == user_id)
    ).first()


def _zone(name: str | None) -> dt.tzinfo:
    try:
        return ZoneInfo(name) if name else dt.UTC
    except (ValueError, KeyError, OSError):
        return dt.UTC


def _start_of(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """Midnight of ``day`` in the viewer's zone, in UTC (dates are the viewer's days)."""
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


def _hits(
    session: Session,
    user_id: int,
    ids: list[int],
    match: search_sql.TextMatch | None,
    marks: tuple[str, str],
) -> tuple[SearchHit, ...]:
    """The result rows for ``ids`` (in that order), with snippets of just these."""
    if not ids:
        return ()
    params: dict[str, object] = {"ids": ids}
    # On FTS5 the ids must constrain its own rowid: "m.id IN" would make it
    # compute the match (and snippets) for every row of the word first.
    id_column = match.id_column if match else "m.id"
    if match:
        params.update(match.params)
        snippet = match.snippet
    else:
        snippet = "m.body"
    rows = session.execute(
        sa.text(
            f"""SELECT m.id, m.room_id, m.created_at, {snippet} AS snippet,
                   u.username, u.display_name, r.name, r.kind, r.is_private, r.name_key,
                   m.file_names
            FROM messages m {match.join if match else ""}
            JOIN rooms r ON r.id = m.room_id
            LEFT JOIN users u ON u.id = m.author_id
            WHERE {id_column} IN :ids {"AND " + match.where if match else ""}"""  # noqa: S608
        )
        .bindparams(sa.bindparam("ids", expanding=True))
        .columns(
            sa.column("id"),
            sa.column("room_id"),
            sa.column("created_at", UTCDateTime()),
            *(sa.column(n) for n in RESULT_COLUMNS),
        ),
        params,
    ).all()
    directs = _direct_titles(session, user_id, {r.room_id for r in rows if r.kind == "direct"})
    by_id = {row.id: row for row in rows}
    hits = []
    for message_id in ids:
        row = by_id.get(message_id)
        if row is None:  # changed between the two queries: leave it out
            continue
        direct = row.kind == RoomKind.DIRECT.value
        page = (
            routes.direct_path(row.room_id)
            if direct
            else routes.room_path(row.name_key if row.is_private else row.name)
        )
        text = row.snippet or ""
        if match and match.less_than_stand_in:
            text = text.replace(match.less_than_stand_in, "<")
        if match and match.added_to_snippet:
            text = text.replace(match.added_to_snippet, "")
        if not text.strip() and row.file_names:  # files alone, found by a filter
            text = excerpt("", row.file_names.splitlines())
        segments = segments_of(text, marks) if match else (Segment(text[:PLAIN_SNIPPET_CHARS]),)
        hits.append(
            SearchHit(
                message_id=row.id,
                place=directs.get(row.room_id, "") if direct else row.name,
                direct=direct,
                url=routes.message_path(page, row.id),
                author=row.username or DELETED_NAME,
                author_display=row.display_name or "",
                created_at=row.created_at.astimezone(dt.UTC).isoformat(),
                segments=segments,
            )
        )
    return tuple(hits)


def _direct_titles(session: Session, user_id: int, room_ids: set[int]) -> dict[int, str]:
    """Each conversation's title for me: the other people's usernames."""
    titles: dict[int, list[str]] = {rid: [] for rid in room_ids}
    if room_ids:
        for room_id, username in session.exec(
            select(Membership.room_id, User.username)
            .join(User, col(User.id) == Membership.user_id)
            .where(col(Membership.room_id).in_(room_ids), Membership.user_id != user_id)
            .order_by(User.username_key)
        ).all():
            titles[room_id].append(username)
    return {rid: ", ".join(names) or "Only you" for rid, names in titles.items()}
