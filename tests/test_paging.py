"""One tab's paging through a room: plain arithmetic, checked case by case and by property."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from blabber.realtime.paging import Paging
from blabber.services.views import MessageView


def views(ids) -> list[MessageView]:
    return [
        MessageView(id=i, room_id=1, author="a", kind="user", body=f"m{i}", created_at="")
        for i in ids
    ]


FEED = list(range(51, 101))  # a feed holding messages 51..100


def test_a_room_opens_at_its_newest_page():
    p = Paging()
    p.open_at_newest(FEED, 10)
    assert (p.messages, p.show_from_id, p.has_older, p.has_newer) == ([], 91, False, False)
    p.open_at_newest([], 10)
    assert p.show_from_id == 0


def test_older_feed_messages_are_revealed_before_the_database_is_asked():
    p = Paging(show_from_id=91)
    assert p.reveal_in_feed(FEED, feed_has_older=True, size=10) == 0
    assert p.show_from_id == 81
    p.show_from_id = 56  # five hidden left: the rest of the page comes from the database
    assert p.reveal_in_feed(FEED, feed_has_older=True, size=10) == 5
    assert p.reveal_in_feed(FEED, feed_has_older=False, size=10) == 0
    assert p.show_from_id == 51  # nothing older exists: the feed is all there is


def test_an_older_page_joins_the_history_and_the_bound_hides_the_feed():
    p = Paging(show_from_id=51)
    p.add_older(views(range(40, 51)), want=10, feed_len=50, bound=200)  # 11 asked for 10
    assert [m.id for m in p.messages] == list(range(41, 51))
    assert p.has_older and p.show_from_id == 51 and not p.has_newer and p.paged
    p.add_older(views(range(1, 41)), want=150, feed_len=50, bound=60)  # 50 + the feed > 60
    assert len(p.messages) == 50 and p.messages[0].id == 1 and p.has_newer
    p = Paging(messages=views(range(61, 71)), show_from_id=71)
    p.add_older(views(range(1, 61)), want=100, feed_len=0, bound=30)
    assert [m.id for m in p.messages] == list(range(1, 31))  # the oldest part stays contiguous
    assert not p.has_older and not p.paged  # the history no longer joins the feed


def test_a_reconnect_catches_up_inside_the_feed_or_from_the_database():
    p = Paging(show_from_id=91)
    assert p.catch_up_in_feed(FEED, seen=70)
    assert p.show_from_id == 71
    assert p.catch_up_in_feed(FEED, seen=100) and p.show_from_id == 71  # nothing missed
    assert not p.catch_up_in_feed(FEED, seen=30)  # the gap reaches past the feed
    p.take_missed(views(range(1, 51)), seen=30)
    assert [m.id for m in p.messages] == list(range(31, 51))
    assert p.has_older and p.show_from_id == 51


def test_trimmed_messages_extend_a_paged_history_and_only_that():
    p = Paging()
    p.keep_trimmed(views([51, 52]), bound=200)
    assert p.messages == []  # a tab that never paged back ignores trims
    p = Paging(messages=views(range(41, 51)), has_older=True, show_from_id=51)
    p.keep_trimmed(views([49, 50, 51, 52]), bound=11)
    assert [m.id for m in p.messages] == list(range(42, 53))
    assert p.show_from_id == 53 and p.has_older


@settings(max_examples=200, deadline=None)
@given(
    feed_len=st.integers(min_value=0, max_value=60),
    page=st.integers(min_value=1, max_value=15),
    steps=st.lists(st.sampled_from(["reveal", "older", "trim", "latest"]), max_size=25),
)
def test_nothing_is_shown_twice_or_out_of_order(feed_len, page, steps):
    """Whatever the sequence, history is ascending, gap-free and older than the feed part."""
    total = 500
    feed = list(range(total - feed_len + 1, total + 1))
    bound = 4 * max(feed_len, 1)
    p = Paging()
    p.open_at_newest(feed, page)
    for step in steps:
        if step == "reveal" or step == "older":
            want = p.reveal_in_feed(feed, feed_has_older=True, size=page)
            before = p.messages[0].id if p.messages else (feed[0] if feed else 0)
            if want and before > 1:
                older = views(range(max(1, before - want - 1), before))
                p.add_older(older, want, len(feed), bound)
        elif step == "trim" and feed:
            trimmed, feed = feed[:page], feed[page:] + list(range(total + 1, total + 1 + page))
            total += page
            p.keep_trimmed(views(trimmed), bound)
        elif step == "latest":
            p.open_at_newest(feed, page)
        ids = [m.id for m in p.messages]
        assert (
            ids == sorted(set(ids)) and ids == list(range(ids[0], ids[0] + len(ids)))
            if ids
            else True
        )
        assert len(ids) <= bound
        if ids and not p.has_newer:
            assert p.show_from_id == ids[-1] + 1


# -- permalinks ---------------------------------------------------------------------
def test_a_permalink_into_the_feed_reads_nothing_more():
    p = Paging()
    p.open_around(views(range(70, 81)), True, FEED, 75)
    assert (p.messages, p.show_from_id, p.has_newer) == ([], 70, False)
    p.open_around(views(range(40, 61)), True, FEED, 55)  # context starts before the feed
    assert (p.messages, p.show_from_id, p.has_newer) == ([], 51, False)


def test_a_permalink_far_back_shows_history_and_hides_the_feed():
    p = Paging()
    p.open_around(views(range(5, 16)), True, FEED, 10)
    assert [m.id for m in p.messages] == list(range(5, 16))
    assert (p.has_older, p.has_newer, p.show_from_id) == (True, True, 16)


def test_a_permalink_whose_context_reaches_the_feed_joins_it():
    p = Paging()
    p.open_around(views(range(40, 56)), False, FEED, 45)
    assert [m.id for m in p.messages] == list(range(40, 51))
    assert (p.has_older, p.has_newer, p.show_from_id) == (False, False, 51)


def test_the_first_unread_is_revealed_in_the_feed_only():
    p = Paging()
    p.open_at_newest(FEED, 10)
    p.reveal_from(70)
    assert p.show_from_id == 70
    p.reveal_from(95)  # already shown: nothing moves
    assert p.show_from_id == 70
