"""Search in a real browser: Ctrl+K, a phrase and from:, highlighted snippets, click-through.

Two people share a room and a DM; alice also has a room bob is not in.
bob's searches find what he may read, with the matched words in <mark>,
and never alice's other room; a result opens the message highlighted.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import ui
from tests.e2e.ui import search

pytestmark = pytest.mark.e2e


def test_search_finds_what_i_can_read_highlighted_and_opens_it(new_page, uniq):
    room, other = uniq("plans"), uniq("solo")
    alice_name, bob_name = uniq("alice"), uniq("bob")
    alice, bob = new_page(), new_page()
    ui.sign_up(alice, alice_name)
    ui.join(alice, other)
    ui.send(alice, "release candidate for the vault")
    ui.join(alice, room)
    ui.sign_up(bob, bob_name)
    ui.join(bob, room)
    ui.send(alice, "We deployed the release to staging")
    ui.send(bob, "the release notes are <b>ready</b>")
    alice.get_by_role("button", name=f"Message {bob_name}").click()
    expect(alice).to_have_url(re.compile(r"/dm/\d+$"))
    expect(alice.get_by_test_id("room-heading")).to_have_text(bob_name)  # the DM is open
    expect(ui.composer(alice)).to_have_attribute("placeholder", re.compile(rf"^Message {bob_name}"))
    ui.send(alice, "release party on friday")

    search(bob, f'from:{alice_name} "deployed the release"')
    results = bob.get_by_test_id("search-result")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text(f"#{room}")
    marks = results.first.locator("mark")
    expect(marks.first).to_be_visible()
    marked = " ".join(marks.all_inner_texts())  # one range per phrase (SQLite), or per word
    assert "deployed" in marked and "release" in marked and "staging" not in marked

    # Every result bob may read (the room and the DM), never alice's other room.
    search(bob, "release")
    expect(results).to_have_count(3)
    expect(bob.get_by_role("dialog")).not_to_contain_text("vault")
    expect(results.nth(0)).to_contain_text(f"Direct message with {alice_name}")
    expect(results.nth(1)).to_contain_text("the release notes are <b>ready</b>")  # as typed
    expect(bob.get_by_role("dialog").locator("b")).to_have_count(0)

    # Best match reorders the same hits; Newest first comes back.
    bob.get_by_role("button", name="Best match").click()
    expect(bob.get_by_role("button", name="Best match")).to_have_attribute("aria-pressed", "true")
    expect(results).to_have_count(3)
    bob.get_by_role("button", name="Newest first").click()
    expect(results.nth(0)).to_contain_text(f"Direct message with {alice_name}")

    # Clicking a result opens the message highlighted in its room.
    results.nth(2).click()
    expect(bob).to_have_url(re.compile(rf"/rooms/{room}\?message=\d+$"))
    row = bob.locator(".message-row").filter(has_text="We deployed the release to staging")
    expect(row).to_have_attribute("data-highlighted", "true")
    expect(bob.get_by_role("dialog")).to_have_count(0)  # the panel closed on the way

    # A room bob is not in: nothing, said plainly.
    search(bob, "candidate")
    expect(results).to_have_count(0)
    expect(bob.get_by_test_id("search-empty")).to_be_visible()
    # A filter naming it says so instead of silently finding nothing.
    search(bob, f"release in:{other}")
    expect(bob.get_by_test_id("search-error")).to_have_text(
        f"You are not in a room or conversation called {other}"
    )
    bob.keyboard.press("Escape")
    expect(bob.get_by_role("dialog")).to_have_count(0)

    # "/" focuses the box too, when not typing somewhere else.
    bob.evaluate("document.activeElement && document.activeElement.blur()")
    bob.keyboard.press("/")
    expect(bob.locator("#search-messages")).to_be_focused()


def test_more_results_load_as_i_scroll(new_page, uniq):
    page, helper, room = new_page(), new_page(), uniq("many")
    ui.sign_up(page, uniq("scroller"))
    ui.join(page, room)
    ui.sign_up(helper, uniq("helper"))
    ui.join(helper, room)
    for i in range(24):  # two senders: one alone would meet the flood limit (20 in a row)
        ui.send(page if i % 2 else helper, f"needle number {i}")
    search(page, "needle")
    results = page.get_by_test_id("search-result")
    expect(results).to_have_count(20)
    results.nth(19).scroll_into_view_if_needed()
    expect(results).to_have_count(24)  # the next page came by itself
    expect(page.locator("#search-more")).to_have_count(0)  # nothing more to load
    expect(results.last).to_contain_text("needle number 0")
