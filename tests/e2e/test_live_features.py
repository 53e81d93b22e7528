"""Live features between browser contexts: presence, typing, unread, leave, kick/ban."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e import ui

pytestmark = pytest.mark.e2e


def two_in_a_room(new_page, uniq, room_prefix: str):
    """Alice (admin) and Bob, signed up in their own contexts, both in one new room."""
    a, b = new_page(), new_page()
    alice, bob, room = uniq("alice"), uniq("bob"), uniq(room_prefix)
    ui.sign_up(a, alice)
    ui.sign_up(b, bob)
    ui.join(a, room)
    ui.join(b, room)
    expect(ui.member_row(a, bob)).to_contain_text("online")
    return a, b, alice, bob, room


def test_presence_goes_offline_when_the_tab_closes(new_page, uniq):
    """B sees A ``online``, then ``offline`` within ~10 s of A's browser closing."""
    a, b, alice, _bob, _room = two_in_a_room(new_page, uniq, "presence")
    expect(ui.member_row(b, alice)).to_contain_text("online")
    a.context.close()
    started = time.monotonic()
    expect(ui.member_row(b, alice)).to_contain_text("offline", timeout=10_000)
    assert time.monotonic() - started < 10


def test_typing_indicator_appears_expires_and_clears_on_send(new_page, uniq):
    """``<A> is typing`` shows while A types; clears ≤5 s after A stops, and at once on send."""
    a, b, alice, _bob, _room = two_in_a_room(new_page, uniq, "typing")
    typing_line = b.get_by_test_id("typing-line")
    box = ui.composer(a)

    box.press_sequentially("I am thinking", delay=40)
    expect(typing_line).to_have_text(f"{alice} is typing", timeout=3_000)
    expect(a.get_by_test_id("typing-line")).not_to_contain_text("typing")  # not for oneself
    stopped = time.monotonic()
    expect(typing_line).not_to_contain_text("typing", timeout=6_000)
    assert time.monotonic() - stopped <= 5.5

    box.press_sequentially(" about it", delay=40)
    expect(typing_line).to_have_text(f"{alice} is typing", timeout=3_000)
    box.press("Enter")
    ui.expect_message(b, "I am thinking about it", timeout=2_500)
    expect(typing_line).not_to_contain_text("typing", timeout=1_000)


def test_typing_line_names_two_and_then_several(new_page, uniq):
    """Two typists are named; three or more become ``Several people are typing``."""
    a, b, alice, bob, room = two_in_a_room(new_page, uniq, "typists")
    c, d = new_page(), new_page()
    carol, dave = uniq("carol"), uniq("dave")
    for page, name in ((c, carol), (d, dave)):
        ui.sign_up(page, name)
        ui.join(page, room)
    watcher = d.get_by_test_id("typing-line")
    ui.composer(a).press_sequentially("aa", delay=30)
    ui.composer(b).press_sequentially("bb", delay=30)
    expect(watcher).to_have_text(f"{alice} and {bob} are typing", timeout=3_000)
    ui.composer(c).press_sequentially("cc", delay=30)
    expect(watcher).to_have_text("Several people are typing", timeout=3_000)


def test_unread_badge_and_toast_for_another_room(new_page, uniq):
    """A post in a room B is in but not viewing: badge + toast; survives reload; cleared on open."""
    a, b, _alice, _bob, room = two_in_a_room(new_page, uniq, "busy")
    elsewhere = uniq("elsewhere")
    ui.join(b, elsewhere)
    entry = ui.sidebar_entry(b, room)
    expect(entry.get_by_test_id("unread-badge")).to_have_count(0)
    # Someone joining is a system line, not something to read: no badge, live or later.
    carol, carol_name = new_page(), uniq("carol")
    ui.sign_up(carol, carol_name)
    ui.join(carol, room)
    expect(ui.member_row(a, carol_name)).to_have_count(1)

    ui.send(a, "are you there?")
    expect(b.get_by_text(f"New message in {room}")).to_be_visible(timeout=3_000)
    expect(entry.get_by_test_id("unread-badge")).to_have_text("1", timeout=3_000)
    ui.send(a, "hello?")
    expect(entry.get_by_test_id("unread-badge")).to_have_text("2", timeout=3_000)

    b.reload()
    expect(b.get_by_test_id("room-heading")).to_have_text(elsewhere)
    expect(ui.sidebar_entry(b, room).get_by_test_id("unread-badge")).to_have_text("2")

    ui.sidebar_entry(b, room).click()
    expect(b.get_by_test_id("room-heading")).to_have_text(room)
    ui.expect_message(b, "hello?")
    expect(ui.sidebar_entry(b, room).get_by_test_id("unread-badge")).to_have_count(0)
    b.reload()
    expect(b.get_by_test_id("room-heading")).to_have_text(room)
    expect(ui.sidebar_entry(b, room).get_by_test_id("unread-badge")).to_have_count(0)


def test_leave_room_updates_both_sides(new_page, uniq):
    """B leaves: the room leaves B's sidebar and A's Members list updates without reload."""
    a, b, _alice, bob, room = two_in_a_room(new_page, uniq, "leaving")
    expect(ui.member_row(a, bob)).to_have_count(1)
    b.get_by_role("button", name="Leave room").click()
    expect(b).to_have_url(re.compile(r"/$"))
    expect(ui.sidebar_entry(b, room)).to_have_count(0)
    expect(ui.member_row(a, bob)).to_have_count(0, timeout=3_000)
    expect(a.get_by_test_id("system-line").filter(has_text=f"{bob} left")).to_be_visible()


def test_kick_ban_and_unban(new_page, uniq):
    """Admin kicks B: B is told and shut out, cannot rejoin until unbanned; system lines show."""
    a, b, alice, bob, room = two_in_a_room(new_page, uniq, "kicks")
    ui.send(a, "before the kick")
    ui.expect_message(b, "before the kick")
    expect(b.get_by_role("button", name=re.compile(r"^Kick "))).to_have_count(0)  # not admin
    expect(a.get_by_role("button", name=f"Kick {alice}")).to_have_count(0)  # not oneself

    a.get_by_role("button", name=f"Kick {bob}").click()
    expect(b.get_by_text(f"You were removed from {room}")).to_be_visible(timeout=3_000)
    expect(ui.sidebar_entry(b, room)).to_have_count(0)
    expect(b.get_by_text("before the kick")).to_have_count(0)
    expect(ui.member_row(a, bob)).to_have_count(0)
    expect(
        a.get_by_test_id("system-line").filter(has_text=f"{bob} was removed by {alice}")
    ).to_be_visible()
    expect(a.get_by_test_id("system-line").filter(has_text=f"{bob} joined")).to_be_visible()

    b.goto(f"/rooms/{room}")
    expect(b.get_by_test_id("notice")).to_contain_text("not a member")
    expect(b.get_by_text("before the kick")).to_have_count(0)

    b.get_by_placeholder("Room name").fill(room)
    b.get_by_role("button", name="Join", exact=True).click()
    expect(b.get_by_test_id("join-error")).to_contain_text(f"You were removed from {room}")
    expect(ui.sidebar_entry(b, room)).to_have_count(0)

    expect(a.get_by_role("heading", name="Banned")).to_be_visible()
    banned_row = a.get_by_role("button", name=f"Unban {bob}")
    expect(banned_row).to_be_visible()
    banned_row.click()
    expect(a.get_by_role("heading", name="Banned")).to_have_count(0)

    ui.join(b, room)
    ui.expect_message(b, "before the kick")
    expect(b.get_by_test_id("notice")).to_have_count(0)  # the old refusal no longer applies
    expect(ui.member_row(a, bob)).to_contain_text("online", timeout=3_000)


def test_own_messages_from_another_tab_are_not_unread(new_page, uniq):
    """My second tab, viewing another room, gets no badge or toast for what I post."""
    a, _b, _alice, _bob, room = two_in_a_room(new_page, uniq, "mine")
    other = a.context.new_page()  # same person, second tab (shares the login)
    other.goto("/")
    ui.join(other, uniq("other"))
    ui.send(a, "posted from my first tab")
    other.wait_for_timeout(1_500)
    expect(other.get_by_text(f"New message in {room}")).to_have_count(0)
    expect(ui.sidebar_entry(other, room).get_by_test_id("unread-badge")).to_have_count(0)


def test_messages_seen_live_stay_read(new_page, uniq):
    """Messages B watched arrive live are not counted unread in B's next tab."""
    a, b, _alice, _bob, room = two_in_a_room(new_page, uniq, "seen")
    for text in ("one", "two", "three"):
        ui.send(a, f"burst {text}")
    ui.expect_message(b, "burst three")
    b.wait_for_timeout(4_000)  # longer than the read-mark throttle
    fresh = b.context.new_page()
    fresh.goto("/")
    expect(fresh.get_by_test_id("current-username")).to_be_visible()
    expect(ui.sidebar_entry(fresh, room)).to_be_visible()
    expect(ui.sidebar_entry(fresh, room).get_by_test_id("unread-badge")).to_have_count(0)


def test_logging_out_goes_offline(new_page, uniq):
    """A tab that logs out stops counting its user as online, even while it stays open."""
    a, b, alice, _bob, _room = two_in_a_room(new_page, uniq, "logout")
    expect(ui.member_row(b, alice)).to_contain_text("online")
    a.get_by_role("button", name="Log out").click()
    expect(a).to_have_url(re.compile(r"/login/?$"))
    expect(ui.member_row(b, alice)).to_contain_text("offline", timeout=10_000)
