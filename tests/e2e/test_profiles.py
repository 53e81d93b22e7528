"""Profiles in Chromium: a display name on messages, and the card a click on a name opens."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import ui

pytestmark = pytest.mark.e2e


def test_a_profile_shows_on_messages_and_in_the_card_with_message_username(new_page, uniq):
    a, b = new_page(timezone_id="Asia/Tokyo"), new_page()
    alice, bob, room = uniq("alice"), uniq("bob"), uniq("team")
    ui.sign_up(a, alice)
    ui.sign_up(b, bob)
    ui.join(a, room)
    ui.join(b, room)

    a.goto("/settings")
    expect(a.get_by_role("button", name="Save profile")).to_be_enabled()  # the stored profile is in
    a.get_by_label("Display name").fill("Alice Adams")
    a.get_by_label("About").fill("Design lead; ask me about fonts")
    a.get_by_label("Status", exact=True).fill("In a meeting")
    a.get_by_role("combobox", name="Clear status after").click()
    a.get_by_role("option", name="4 hours").click()
    a.get_by_role("button", name="Save profile").click()
    expect(a.get_by_test_id("profile-done")).to_have_text("Profile saved.")
    a.reload()  # what is stored is what the form shows
    expect(a.get_by_label("Display name")).to_have_value("Alice Adams")

    ui.sidebar_entry(a, room).click()
    # The room is open again (/settings had closed it) before this test types.
    expect(a.get_by_test_id("room-heading")).to_have_text(room)
    ui.send(a, "hello from the profile")
    row = ui.message(b, "hello from the profile")
    name = row.get_by_test_id("message-author")
    expect(name).to_have_text("Alice Adams")  # live, under her display name
    name.click()
    card = b.get_by_test_id("profile-card")
    expect(card.get_by_test_id("card-name")).to_have_text("Alice Adams")
    expect(card).to_contain_text(f"@{alice}")
    expect(card.get_by_test_id("card-status")).to_have_text("In a meeting")
    expect(card.get_by_test_id("card-about")).to_have_text("Design lead; ask me about fonts")
    expect(card.get_by_test_id("card-presence")).to_have_text(
        re.compile(r"^online · \d\d:\d\d local time$")
    )
    card.get_by_role("button", name=f"Message {alice}").click()
    expect(b).to_have_url(re.compile(r"/dm/\d+$"))
    expect(b.get_by_test_id("room-heading")).to_have_text(alice)
