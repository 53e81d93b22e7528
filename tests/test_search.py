"""Search (services.search, services.search_query): one table of queries, SQLite and PostgreSQL.

The same messages and the same queries on both backends, through the real
FTS5 index and the real tsvector column (migration 0013): stemming, phrases,
exclusion, OR, every filter, membership boundaries (a room I left, a DM I
am not in, a private room), edits and deletions, escaped highlights and
malformed input. Each negative row has a positive one that differs only in
what it checks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from blabber.services import (
    accounts,
    conversations,
    message_changes,
    messages,
    room_creation,
    rooms,
    search,
    search_query,
)
from blabber.services.errors import ServiceError
from tests.conftest import FAST

ROOMY = dataclasses.replace(FAST, message_burst=1000)


@dataclasses.dataclass
class World:
    ids: dict[str, int]  # user ids by name
    rooms: dict[str, int]  # room ids by name
    sent: dict[str, int]  # message ids by a short label


def send(session, author: int, room_id: int, body: str) -> int:
    view = messages.send_message(session, author, room_id, body, uuid.uuid4().hex, settings=ROOMY)
    return view.id


@pytest.fixture
def world(session) -> World:
    """alice and bob share ops and dev; carol is alone in her private room; a DM alice-bob."""
    names = ("alice", "bob", "carol", "dave")
    ids = {n: accounts.sign_up(session, n, "password1", settings=FAST).user_id for n in names}
    ops = rooms.join_room(session, ids["alice"], "ops", settings=ROOMY).id
    rooms.join_room(session, ids["bob"], "ops", settings=ROOMY)
    dev = rooms.join_room(session, ids["alice"], "dev", settings=ROOMY).id
    rooms.join_room(session, ids["bob"], "dev", settings=ROOMY)
    left = rooms.join_room(session, ids["alice"], "old-team", settings=ROOMY).id
    secret = room_creation.create_room(session, ids["carol"], "vault", private=True).id
    dm = conversations.open_direct(session, ids["alice"], ["bob"]).id
    bob_carol = conversations.open_direct(session, ids["bob"], ["carol"]).id
    a, b = ids["alice"], ids["bob"]
    sent = {
        "deployed": send(session, a, ops, "We deployed the new build to staging"),
        "deploying": send(session, b, ops, "Deploying again after lunch, café is closed"),
        "phrase": send(session, b, dev, "the release notes are ready for review"),
        "scrambled": send(session, a, dev, "ready notes, release later"),
        "cats": send(session, a, dev, "Cats are great"),
        "dogs": send(session, b, dev, "dogs are loyal"),
        "link": send(session, b, ops, "docs at https://example.com/guide for staging"),
        "markup": send(
            session, a, ops, "literal <script>alert(1)</script> and <mark>x</mark> staging"
        ),
        "dm": send(session, a, dm, "private plans for the staging party"),
        "mention": send(session, a, ops, "@bob can you check staging"),
        "old": send(session, a, left, "staging notes from the old team"),
        "vault": send(session, ids["carol"], secret, "vault staging secrets"),
        "bob_carol": send(session, b, bob_carol, "staging between bob and carol"),
    }
    rooms.leave_room(session, a, left)
    return World(ids, {"ops": ops, "dev": dev, "dm": dm, "left": left, "vault": secret}, sent)


def found(session, world: World, user: str, text: str, **kw) -> list[str]:
    """Labels of the hits, in order."""
    page = search.search(session, world.ids[user], text, **kw)
    label_of = {v: k for k, v in world.sent.items()}
    return [label_of.get(h.message_id, str(h.message_id)) for h in page.hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("deploying", ["deploying", "deployed"]),  # stemmed both ways, newest first
        ("DEPLOYED", ["deploying", "deployed"]),  # case-insensitive
        ("cafe", ["deploying"]),  # accent-insensitive
        ('"release notes"', ["phrase"]),  # the phrase, not the same words scrambled
        ("release notes", ["scrambled", "phrase"]),  # both words anywhere
        ("staging -build", ["mention", "dm", "markup", "link"]),  # exclusion
        ('staging -"new build"', ["mention", "dm", "markup", "link"]),  # excluded phrase
        ("cats OR dogs", ["dogs", "cats"]),
        ("cats OR dogs great", ["cats"]),  # OR binds tighter than AND
        ("staging from:bob", ["link"]),
        ("staging from:BOB", ["link"]),
        ("from:bob", ["link", "dogs", "phrase", "deploying"]),  # a filter alone
        ("staging in:ops", ["mention", "markup", "link", "deployed"]),
        ("staging in:bob", ["dm"]),  # the conversation with bob, by his name
        ("has:link", ["link"]),
        ("staging has:link", ["link"]),
        ("is:mention", []),  # alice mentioned nobody's her; see the bob row
        ("nothingmatchesthis", []),
    ],
)
def test_the_query_table(session, world, query, expected):
    assert found(session, world, "alice", query) == expected


def test_is_mention_finds_mentions_of_me(session, world):
    assert found(session, world, "bob", "is:mention") == ["mention"]
    assert found(session, world, "bob", "staging is:mention") == ["mention"]


def test_only_rooms_i_am_in_now_are_searched(session, world):
    everything = found(session, world, "alice", "staging")
    assert "old" not in everything  # a room alice left
    assert "vault" not in everything  # a private room she was never added to
    assert "bob_carol" not in everything  # a DM she is not in
    assert "dm" in everything  # her own DM: positive control
    # The members themselves do find them (the index has them).
    assert "vault" in found(session, world, "carol", "staging")
    assert "bob_carol" in found(session, world, "carol", "staging")
    # Kicked: gone at once.
    ops = world.rooms["ops"]
    assert "link" in found(session, world, "bob", "staging")
    rooms.leave_room(session, world.ids["bob"], ops)
    assert "link" not in found(session, world, "bob", "staging")


def test_in_a_room_i_am_not_in_says_so_whether_or_not_it_exists(session, world):
    for place in ("vault", "old-team", "no-such-room"):
        with pytest.raises(ServiceError, match=f"not in a room or conversation called {place}"):
            search.search(session, world.ids["alice"], f"staging in:{place}")


def test_unknown_person_says_so(session, world):
    with pytest.raises(ServiceError, match="No one is called zed"):
        search.search(session, world.ids["alice"], "from:zed")


def test_edits_and_deletions_are_reflected_at_once(session, world):
    a = world.ids["alice"]
    cats = world.sent["cats"]
    message_changes.edit_message(session, a, cats, "Parrots are great", settings=ROOMY)
    assert found(session, world, "alice", "cats OR dogs") == ["dogs"]
    assert found(session, world, "alice", "parrots") == ["cats"]  # the same message, new text
    message_changes.delete_message(session, a, cats)
    assert found(session, world, "alice", "parrots") == []
    assert found(session, world, "alice", "great") == []


def test_snippets_are_text_segments_with_the_matches_marked(session, world):
    page = search.search(session, world.ids["alice"], "script staging")
    (hit,) = page.hits
    text = "".join(s.text for s in hit.segments)
    assert "<script>alert(1)</script>" in text and "<mark>x</mark>" in text  # literally
    marked = [s.text.lower() for s in hit.segments if s.marked]
    assert "staging" in marked and "script" in marked
    assert not any(s.marked for s in hit.segments if "<mark>" in s.text)
    assert hit.place == "ops" and not hit.direct and hit.author == "alice"
    assert hit.url == f"/rooms/ops?message={world.sent['markup']}"


def test_a_dm_hit_is_named_by_the_other_people_and_links_to_the_conversation(session, world):
    (hit,) = search.search(session, world.ids["alice"], "party").hits
    assert hit.direct and hit.place == "bob"
    assert hit.url == f"/dm/{world.rooms['dm']}?message={world.sent['dm']}"


def test_marks_typed_in_a_message_cannot_forge_a_highlight(session, world):
    a, ops = world.ids["alice"], world.rooms["ops"]
    send(session, a, ops, "forged \x02abc\x02 zebra \x03abc\x03 end")
    (hit,) = search.search(session, a, "end").hits
    assert [s.text for s in hit.segments if s.marked] == ["end"]


def test_dates_are_the_viewers_days(session, world):
    a = world.ids["alice"]
    today = dt.datetime.now(dt.UTC).date()
    assert found(session, world, "alice", f"cats on:{today}") == ["cats"]
    assert found(session, world, "alice", f"cats before:{today}") == []
    assert found(session, world, "alice", f"cats after:{today - dt.timedelta(days=1)}") == ["cats"]
    assert found(session, world, "alice", f"cats after:{today}") == []
    # A viewer far east of UTC: "today" there may differ; on: uses their day.
    east = sa.text("UPDATE users SET time_zone = 'Pacific/Kiritimati' WHERE id = :i")
    session.execute(east, {"i": a})
    session.commit()
    local_today = dt.datetime.now(dt.timezone(dt.timedelta(hours=14))).date()
    assert found(session, world, "alice", f"cats on:{local_today}") == ["cats"]


def test_best_match_orders_by_rank_and_pages_both_ways(session, world):
    a, ops = world.ids["alice"], world.rooms["ops"]
    for i in range(25):
        send(session, a, ops, f"pager filler {i}" + (" pager pager pager" if i == 3 else ""))
    first = search.search(session, a, "pager")
    assert len(first.hits) == search.PAGE and first.next_cursor
    second = search.search(session, a, "pager", cursor=first.next_cursor)
    assert len(second.hits) == 5 and not second.next_cursor
    ids = [h.message_id for h in (*first.hits, *second.hits)]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 25
    best = search.search(session, a, "pager", order=search.BEST)
    assert "pager filler 3 " in "".join(s.text for s in best.hits[0].segments)
    more = search.search(session, a, "pager", order=search.BEST, cursor=best.next_cursor)
    assert len(more.hits) == 5
    assert not {h.message_id for h in best.hits} & {h.message_id for h in more.hits}


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced staging',
        "OR",
        "-",
        "- OR -",
        '""',
        "x" * 10_000,
        "NEAR(a b)",
        "a* OR",
        "staging AND",
        "(((",
        "'; DROP TABLE messages; --",
        "st:ag:ing",
        "\x00staging",
    ],
)
def test_malformed_queries_get_a_result_or_a_clear_message(session, world, query):
    try:
        page = search.search(session, world.ids["alice"], query)
    except ServiceError as err:
        assert err.message in (search.EMPTY,), err.message
        return
    assert isinstance(page.hits, tuple)
    if "x" * 600 in query:
        assert "Only the first 500 characters were searched" in page.notes


def test_has_file_finds_messages_with_files_that_i_can_read(session, world):
    from blabber.services import files
    from blabber.services.files import StoredFile

    a, b = world.ids["alice"], world.ids["bob"]

    def with_file(author: int, room: str, body: str, name: str) -> int:
        stored = StoredFile(name, "application/pdf", 10, f"f/{uuid.uuid4().hex}")
        upload = files.record_upload(session, author, world.rooms[room], stored)
        view = messages.send_message(
            session,
            author,
            world.rooms[room],
            body,
            uuid.uuid4().hex,
            attachment_ids=str(upload.id),
            settings=ROOMY,
        )
        return view.id

    plan = with_file(b, "ops", "", "plan.pdf")
    notes = with_file(a, "dev", "staging notes attached", "notes.pdf")
    with_file(world.ids["carol"], "vault", "vault staging file", "secret.pdf")
    page = search.search(session, a, "has:file")
    assert [h.message_id for h in page.hits] == [notes, plan]  # not carol's private room
    assert [s.text for s in page.hits[1].segments] == ["📎 plan.pdf"]  # files alone: their names
    assert [h.message_id for h in search.search(session, a, "staging has:file").hits] == [notes]
    assert world.sent["deployed"] in [
        h.message_id for h in search.search(session, a, "staging").hits
    ]


def test_files_names_are_searched_like_text(session, world):
    from blabber.services import files
    from blabber.services.files import StoredFile

    a, b = world.ids["alice"], world.ids["bob"]

    def with_files(author: int, room: str, body: str, *names: str) -> int:
        ids = [
            files.record_upload(
                session,
                author,
                world.rooms[room],
                StoredFile(n, "text/plain", 1, f"f/{uuid.uuid4().hex}"),
            ).id
            for n in names
        ]
        return messages.send_message(
            session,
            author,
            world.rooms[room],
            body,
            uuid.uuid4().hex,
            attachment_ids=",".join(map(str, ids)),
            settings=ROOMY,
        ).id

    sheet = with_files(b, "ops", "", "quarterly-forecast.xlsx")
    both = with_files(a, "dev", "see the attached", "forecast_v2.pdf", "photo.png")
    with_files(world.ids["carol"], "vault", "", "secret-forecast.pdf")  # not alice's room

    def found(query: str) -> list[int]:
        return [h.message_id for h in search.search(session, a, query).hits]

    assert found("forecast") == [both, sheet]  # stemmed, split at . _ -
    assert found("quarterly-forecast.xlsx") == [sheet]  # the whole name, as typed
    assert found("forecast -xlsx") == [both]
    assert found("forecast in:dev") == [both]
    hit = search.search(session, a, "quarterly").hits[0]
    assert [s.text for s in hit.segments if s.marked] == ["quarterly"]  # the name, marked
    message_changes.delete_message(session, b, sheet)
    assert found("forecast") == [both]  # deleted: its names left the index too


def test_filters_that_cannot_be_read_say_how_to_write_them(session, world):
    for query, message in (
        ("before:yesterday", "before: needs a date like 2026-12-03"),
        ("on:2026-02-30", "on: needs a date like 2026-12-03"),
        ("from:", "from: needs something after the colon"),
        ("has:pdf", "has: can be has:link or has:file"),
        ("is:starred", "is: can be is:mention"),
    ):
        with pytest.raises(search_query.QueryError, match=message):
            search.search(session, world.ids["alice"], query)
    with pytest.raises(ServiceError, match="Type a word"):
        search.search(session, world.ids["alice"], "   ")
    with pytest.raises(ServiceError, match="Type a word"):
        search.search(session, world.ids["alice"], "-staging")


def test_best_match_ranks_the_newest_candidates_only(session, world, monkeypatch):
    """The bound that keeps Best match fast: it ranks the newest BEST_CANDIDATES matches."""
    monkeypatch.setattr(search, "BEST_CANDIDATES", 3)
    a, dev = world.ids["alice"], world.rooms["dev"]
    oldest = send(session, a, dev, "zebra zebra zebra zebra")  # the best match of all
    newer = [send(session, a, dev, f"a zebra and {i} other words here") for i in range(4)]
    best = [h.message_id for h in search.search(session, a, "zebra", order=search.BEST).hits]
    assert sorted(best) == sorted(newer[-3:]) and oldest not in best
    monkeypatch.setattr(search, "BEST_CANDIDATES", 100)
    best = [h.message_id for h in search.search(session, a, "zebra", order=search.BEST).hits]
    assert best[0] == oldest  # with room for it, it ranks first
