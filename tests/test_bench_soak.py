"""The soak test's accounting: it must catch a lost, a duplicated and an out-of-order message.

Lists are injected directly (no server), as each simulated tab's page would
show them: a soak that miscounts would report a broken realtime path as
healthy.
"""

from __future__ import annotations

from bench.client import Protocol
from bench.soak import ROOM_SIZE, SoakClient, SoakLedger, failures, plan_personas
from bench.stats import make_body

MS = 1_000_000


def msg(mid: int, key: str) -> dict:
    return {"id": mid, "body": make_body(key, 0), "author": "a", "kind": "user"}


def ledger_with_room(clients: int = 3) -> SoakLedger:
    ledger = SoakLedger()
    for c in range(clients):
        ledger.join(c, "r")
    return ledger


def test_clean_run_counts_sent_acked_delivered_and_latency():
    ledger = ledger_with_room()
    ledger.record_send("k1", "r", 0, 0)
    ledger.record_send("k2", "r", 0, 0)
    for client, at in ((0, 1), (1, 10), (2, 30)):
        ledger.on_list(client, [msg(5, "k1"), msg(6, "k2")], at * MS)
    ledger.on_list(1, [msg(4, "old"), msg(5, "k1"), msg(6, "k2")], 40 * MS)  # resent: no dup
    r = ledger.result()
    assert (r["sent"], r["acked"], r["unacked"], r["expected"], r["delivered"]) == (2, 2, 0, 4, 4)
    assert (r["lost"], r["duplicated"], r["out_of_order"], r["unexpected"]) == (0, 0, 0, 1)
    assert r["live_max_ms"] == 30
    assert failures(r) == ["unexpected"]  # "old" was never sent by this run


def test_injected_loss_and_unacked_send_are_detected():
    ledger = ledger_with_room()
    ledger.record_send("k1", "r", 0, 0)
    ledger.on_list(1, [msg(5, "k1")], MS)  # neither the sender nor client 2 shows it
    r = ledger.result()
    assert (r["expected"], r["delivered"], r["lost"], r["unacked"]) == (2, 1, 1, 1)
    assert "lost" in failures(r) and "unacked" in failures(r)
    assert any("lost: k1" in p and "client 2" in p for p in r["problems"])


def test_injected_duplicates_are_detected_once_per_message_and_client():
    ledger = ledger_with_room()
    ledger.record_send("k1", "r", 0, 0)
    ledger.record_send("k2", "r", 0, 0)
    ledger.on_list(0, [msg(5, "k1"), msg(6, "k2")], MS)
    for _ in range(3):  # the window is re-sent in every delta: still one duplicate
        ledger.on_list(1, [msg(5, "k1"), msg(5, "k1"), msg(6, "k2")], MS)
    ledger.on_list(2, [msg(5, "k1"), msg(6, "k2"), msg(9, "k2")], MS)  # k2 stored twice
    r = ledger.result()
    assert r["duplicated"] == 2 and r["lost"] == 0
    assert failures(r) == ["duplicated"]


def test_injected_list_out_of_order_is_detected():
    ledger = ledger_with_room()
    ledger.record_send("k1", "r", 0, 0)
    ledger.record_send("k2", "r", 1, 0)
    ledger.on_list(0, [msg(5, "k1"), msg(6, "k2")], MS)
    ledger.on_list(1, [msg(5, "k1"), msg(6, "k2")], MS)
    ledger.on_list(2, [msg(6, "k2"), msg(5, "k1")], MS)  # rows swapped
    r = ledger.result()
    assert (r["out_of_order"], r["lost"], r["duplicated"]) == (1, 0, 0)


def test_later_message_of_a_sender_shown_before_its_earlier_one_is_out_of_order():
    ledger = ledger_with_room()
    ledger.record_send("k1", "r", 0, 0)
    ledger.record_send("k2", "r", 0, 0)
    ledger.on_list(0, [msg(4, "x"), msg(5, "k1"), msg(6, "k2")], MS)
    ledger.on_list(1, [msg(4, "x"), msg(6, "k2")], MS)  # k1 missing inside the list's span
    ledger.on_list(1, [msg(4, "x"), msg(5, "k1"), msg(6, "k2")], 2 * MS)  # and appears above
    ledger.on_list(2, [msg(4, "x"), msg(5, "k1"), msg(6, "k2")], MS)
    r = ledger.result()
    assert (r["out_of_order"], r["lost"], r["duplicated"]) == (1, 0, 0)
    assert any("client 1 k2: shown before" in p for p in r["problems"])


def test_sender_message_stored_before_its_earlier_one_is_out_of_order():
    ledger = ledger_with_room(2)
    ledger.record_send("k1", "r", 0, 0)
    ledger.record_send("k2", "r", 0, 0)
    for client in (0, 1):
        ledger.on_list(client, [msg(5, "k2"), msg(6, "k1")], MS)
    assert ledger.result()["out_of_order"] >= 1


def test_reopened_client_catches_up_by_paging_without_false_alarms():
    ledger = ledger_with_room(2)
    keys = [f"k{i}" for i in range(20)]
    rows = [msg(100 + i, k) for i, k in enumerate(keys)]
    ledger.on_list(1, [], 0)
    for k in keys:  # client 1 is away for all of them
        ledger.record_send(k, "r", 0, 0)
    ledger.on_list(0, rows, MS)
    assert len(ledger.missing(1)) == 20
    ledger.reopened(1)
    ledger.on_list(1, rows[-10:], 2 * MS)  # the newest page first (k10..k19) ...
    ledger.on_list(1, rows, 3 * MS)  # ... then Load older messages
    r = ledger.result()
    assert (r["delivered"], r["delivered_live"], r["delivered_after_reopen"]) == (20, 0, 20)
    assert (r["lost"], r["duplicated"], r["out_of_order"]) == (0, 0, 0)
    assert r["live_p50_ms"] is None  # deliveries after a reopen are not latency samples


def test_only_clients_of_the_room_that_opened_it_before_the_send_are_expected():
    ledger = SoakLedger()
    ledger.join(0, "r")
    ledger.join(1, "other")
    ledger.record_send("k1", "r", 0, 0)
    ledger.join(2, "r")  # joined after k1
    ledger.record_send("k2", "r", 0, 0)
    ledger.on_list(0, [msg(1, "k1"), msg(2, "k2")], MS)
    ledger.on_list(2, [msg(2, "k2")], MS)
    r = ledger.result()
    assert (r["expected"], r["delivered"], r["lost"]) == (1, 1, 0)


def tab(**chat) -> SoakClient:
    client = SoakClient(0, "http://127.0.0.1:1", Protocol(), SoakLedger(), "t")
    client.chat = {f"{k}_rx_state_": v for k, v in chat.items()}
    client.feed = {
        "room_rx_state_": "r",
        "recent_rx_state_": [msg(3, "a"), msg(4, "b")],
        "tail_rx_state_": [msg(5, "c")],
        "first_id_rx_state_": 3,
        "has_older_rx_state_": False,
    }
    return client


def test_client_lists_what_the_page_renders():
    ids = lambda c: [m["id"] for m in c.shown_messages()]  # noqa: E731
    assert ids(tab(room_name="r", show_from_id=4)) == [4, 5]
    assert tab(room_name="r", show_from_id=4).can_load_older()  # message 3 is hidden
    assert ids(tab(room_name="r", loading_room=True)) == []  # spinner
    assert ids(tab(room_name="other")) == []  # the previous room's feed never shows
    paged = tab(room_name="r", messages=[msg(1, "x"), msg(2, "y")], has_older=False)
    assert ids(paged) == [1, 2, 3, 4, 5] and not paged.can_load_older()
    assert ids(tab(room_name="r", messages=[msg(1, "x")], has_newer=True)) == [1]


def test_personas_fill_rooms_share_users_and_joiners_join_a_new_room():
    users = [(i, f"u{i}", f"t{i}") for i in range(36)]
    start, later = plan_personas(users, ["r0", "r1"], 2)
    assert len(start) == 2 * ROOM_SIZE
    rooms_of: dict[int, set[str]] = {}
    for p in start:
        rooms_of.setdefault(p.user[0], set()).add(p.room)
    assert sum(len(r) == 2 for r in rooms_of.values()) == 4  # some users are in 2 rooms
    for p in later:
        assert p.room not in rooms_of[p.user[0]]
    assert [p.index for p in start + later] == list(range(len(start) + 2))


def test_memory_growth_fails_the_soak():
    clean = {"sent": 1, "memory_ok": True}
    assert failures(clean) == []
    assert failures({**clean, "memory_ok": False}) == ["memory_growth"]
    assert failures({"sent": 0}) == ["nothing sent"]


def test_a_deleted_message_is_expected_only_where_it_was_already_shown():
    ledger = ledger_with_room()
    ledger.record_send("k1", "r", 0, 0)
    ledger.on_list(0, [msg(5, "k1")], MS)
    ledger.on_list(1, [msg(5, "k1")], MS)
    ledger.record_deleted("k1")  # client 2 never saw it: not lost
    r = ledger.result()
    assert (r["expected"], r["delivered"], r["lost"]) == (1, 1, 0)
    ledger2 = ledger_with_room()
    ledger2.record_send("k2", "r", 0, 0)
    ledger2.on_list(0, [msg(6, "k2")], MS)
    assert ledger2.result()["lost"] == 2  # not deleted: clients 1 and 2 must show it


def test_stale_versions_fail_the_soak():
    assert failures({"sent": 1, "memory_ok": True, "stale_versions": 3}) == ["stale_versions"]


def test_a_later_message_after_a_deleted_unseen_one_is_not_out_of_order():
    ledger = ledger_with_room()
    ledger.record_send("k1", "r", 0, 0)
    ledger.record_send("k2", "r", 0, 0)
    ledger.on_list(0, [msg(5, "k1"), msg(6, "k2")], MS)  # the sender saw both, then deleted k1
    ledger.record_deleted("k1")
    ledger.on_list(1, [msg(4, "x"), msg(6, "k2")], MS)  # k1 gone before client 1 listed it
    assert ledger.result()["out_of_order"] == 0
    ledger2 = ledger_with_room()
    ledger2.record_send("k1", "r", 0, 0)
    ledger2.record_send("k2", "r", 0, 0)
    ledger2.on_list(0, [msg(5, "k1"), msg(6, "k2")], MS)
    ledger2.on_list(1, [msg(4, "x"), msg(6, "k2")], MS)  # k1 not deleted: skipped, out of order
    assert ledger2.result()["out_of_order"] == 1
