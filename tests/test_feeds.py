"""A worker's room feed: the newest messages, typing and members, once per room."""

from __future__ import annotations

from blabber.realtime.feeds import (
    RoomFeed,
    empty_snapshot,
    parse_seen_marker,
    seen_marker,
    typing_label,
)


def m(i: int, author: str = "alice") -> dict:
    return {"id": i, "room_id": 1, "author": author, "kind": "user", "body": f"b{i}"}


def ids(rows: list[dict]) -> list[int]:
    return [r["id"] for r in rows]


def fresh(window: int = 6, tail_max: int = 3, loaded: list[int] = (), has_older=False) -> RoomFeed:
    feed = RoomFeed(1, "general", window=window, tail_max=tail_max)
    feed.load([m(i) for i in loaded], has_older)
    return feed


def test_a_new_message_resends_only_the_short_tail():
    feed = fresh(loaded=[1, 2, 3])
    payload, trimmed = feed.add([m(4)])
    assert set(payload) == {"tail", "first_id", "has_older", "seen"}
    assert ids(payload["tail"]) == [4]
    assert payload["seen"] == "1:4"  # the tab's catch-up cursor: room 1, newest id 4
    assert trimmed == []
    payload, _ = feed.add([m(5)])
    assert ids(payload["tail"]) == [4, 5]


def test_a_full_tail_rolls_into_recent_and_the_window_trims_the_oldest():
    feed = fresh(loaded=[1, 2, 3, 4, 5])
    for i in (6, 7, 8):
        feed.add([m(i)])
    payload, trimmed = feed.add([m(9)])  # the 4th tail message: roll over
    assert ids(payload["recent"]) == [4, 5, 6, 7, 8, 9]
    assert payload["tail"] == []
    assert ids(trimmed) == [1, 2, 3]
    assert payload["first_id"] == 4 and payload["has_older"] is True


def test_duplicates_are_ignored_and_late_messages_go_in_their_place():
    feed = fresh(loaded=[1, 2, 4])
    assert feed.add([m(4)]) == ({}, [])  # seen already (local echo, then the broker)
    payload, _ = feed.add([m(3)])  # committed before 4, published after it
    assert ids(payload["recent"]) == [1, 2, 3, 4]
    assert ids(feed.messages) == [1, 2, 3, 4]


def test_a_message_older_than_a_trimmed_window_is_left_to_history_paging():
    feed = fresh(loaded=[5, 6, 7], has_older=True)
    assert feed.add([m(2)]) == ({}, [])
    assert ids(feed.messages) == [5, 6, 7]


def test_loading_keeps_messages_that_arrived_while_the_database_was_read():
    feed = RoomFeed(1, "general", window=6, tail_max=3)
    feed.add([m(9)])  # live, before the load finished
    feed.load([m(7), m(8)], has_older=False)
    assert ids(feed.messages) == [7, 8, 9]
    assert feed.loaded and feed.split == 3


def test_typing_labels_never_name_the_viewer_and_expire():
    feed = fresh()
    feed.typing(1, "alice", 4, now=100)
    feed.typing(2, "bob", 4, now=101)
    everyone, own = feed.typing_labels()
    assert everyone == "alice and bob are typing"
    assert own == {1: "bob is typing", 2: "alice is typing"}
    assert feed.expire_typing(now=104.5) == 105  # alice gone, bob until 105
    assert feed.typing_labels()[0] == "bob is typing"
    assert feed.stopped_typing("bob") and not feed.stopped_typing("bob")
    assert feed.expire_typing(now=104.6) is None


def test_typing_is_bounded_per_room():
    feed = fresh()
    for user in range(20):
        feed.typing(user, f"u{user}", 4, now=0)
    assert len(feed.typers) == 10
    assert typing_label(["a", "b", "c"]) == "Several people are typing"


def test_snapshot_has_every_var_an_empty_one_clears_them():
    feed = fresh(loaded=[1])
    feed.set_members([{"user_id": 1, "username": "alice", "role": "admin", "online": True}], 5, 1)
    snap = feed.snapshot("bob is typing", degraded=False)
    assert set(snap) == set(empty_snapshot(False))
    assert snap["room"] == "general" and snap["admins"] == ["alice"]
    assert snap["member_count"] == 5 and snap["typing_text"] == "bob is typing"
    assert empty_snapshot(True)["degraded"] is True


def test_the_catch_up_cursor_is_only_trusted_for_its_own_room():
    assert parse_seen_marker(seen_marker(7, 120), 7) == 120
    assert parse_seen_marker("7:120", 8) == 0  # another room's cursor
    for junk in ("", "7:", "7:-1", "7:1e9", ":5", None, 7, "7:" + "9" * 50, ["7:1"]):
        assert parse_seen_marker(junk, 7) == 0, junk


def test_only_a_new_typer_changes_the_typing_line():
    """Renewals (another tab, another worker) extend the notice without a packet."""
    feed = RoomFeed(1, "general")
    assert feed.typing(7, "alice", 4.0, now=100.0)
    assert not feed.typing(7, "alice", 4.0, now=101.0)  # renewed: same line
    assert feed.expire_typing(now=104.5) == 105.0  # the renewal moved the expiry
    assert feed.typing(8, "bob", 4.0, now=102.0)
    assert feed.typing(7, "alice", 4.0, now=106.0)  # expired, then back: the line changes


# -- changes of a message (edit, deletion, reaction) --------------------------------
def changed(i: int, seq: int, body: str) -> dict:
    return {**m(i), "seq": seq, "body": body, "edited": True}


def test_a_change_in_recent_sends_only_that_message_until_recent_is_resent():
    feed = fresh(loaded=[1, 2, 3])  # all in ``recent``
    payload = feed.change(changed(2, seq=10, body="fixed"))
    assert payload == {"changes": {"2": changed(2, 10, "fixed")}}
    payload = feed.change(changed(1, seq=11, body="also"))
    assert set(payload["changes"]) == {"1", "2"}  # the whole (small) map, a whole value
    assert [r["body"] for r in feed.messages] == ["also", "fixed", "b3"]  # a new viewer's snapshot
    for i in (4, 5, 6, 7):  # the tail fills and rolls over: ``recent`` goes out whole
        payload, _ = feed.add([m(i)])
    assert payload["changes"] == {} and "recent" in payload
    assert feed.changes == {}


def test_a_change_in_the_tail_resends_the_tail():
    feed = fresh(loaded=[1])
    feed.add([m(2)])
    payload = feed.change(changed(2, seq=5, body="new"))
    assert payload == {"tail": [changed(2, 5, "new")]}


def test_an_older_version_never_replaces_a_newer_one():
    feed = fresh(loaded=[1, 2])
    assert feed.change(changed(1, seq=9, body="v9"))
    assert feed.change(changed(1, seq=8, body="v8")) == {}
    assert feed.change(changed(1, seq=9, body="v9 again")) == {}
    assert feed.messages[0]["body"] == "v9"


def test_a_change_outside_the_window_is_left_to_paging_and_a_newer_one_is_added():
    feed = fresh(loaded=[5, 6], has_older=True)
    assert feed.change(changed(3, seq=20, body="old")) == {}
    payload = feed.change(changed(7, seq=21, body="arrived before its creation"))
    assert ids(payload["tail"]) == [7]
    payload, _ = feed.add([m(7)])  # the creation, late: seen already
    assert payload == {} and feed.messages[-1]["body"] == "arrived before its creation"
