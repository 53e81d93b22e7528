"""Room settings in Chromium: the admin renames and re-topics a room, members follow live,
old links still lead members there; deleting the room tells everyone in it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import ui

pytestmark = pytest.mark.e2e


def test_the_admin_renames_and_deletes_a_room_and_members_follow(new_page, uniq):
    a, b = new_page(), new_page()
    alice, bob, old, new = uniq("alice"), uniq("bob"), uniq("plans"), uniq("launch")
    ui.sign_up(a, alice)
    ui.sign_up(b, bob)
    ui.join(a, old)
    ui.join(b, old)
    ui.send(b, "before the rename")
    expect(b.get_by_role("button", name="Room settings")).to_have_count(0)  # admins only

    a.get_by_role("button", name="Room settings").click()
    dialog = a.get_by_role("dialog", name="Room settings")
    dialog.get_by_label("Name", exact=True).fill(new)
    dialog.get_by_label("Topic").fill("Ship it on Friday")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    for page in (a, b):  # both follow the room to its new URL, live
        expect(page).to_have_url(re.compile(f"/rooms/{new}$"))
        expect(page.get_by_test_id("room-heading")).to_have_text(new)
        expect(page.get_by_test_id("room-topic")).to_have_text("Ship it on Friday")
        ui.expect_message(page, "before the rename")
        expect(page.get_by_text(f"{alice} renamed the room from {old} to {new}")).to_be_visible()
    expect(ui.sidebar_entry(b, new)).to_have_count(1)
    b.goto(f"/rooms/{old}")  # an old link
    expect(b).to_have_url(re.compile(f"/rooms/{new}$"))
    expect(b.get_by_test_id("room-heading")).to_have_text(new)

    a.get_by_role("button", name="Room settings").click()
    dialog = a.get_by_role("dialog", name="Room settings")
    dialog.get_by_role("button", name="Delete room").click()
    confirm = dialog.get_by_role("alert")
    expect(confirm).to_contain_text(f"Delete {new}? Its messages are removed for everyone")
    confirm.get_by_role("button", name="Delete room for everyone").click()
    for page in (a, b):
        expect(page).to_have_url(re.compile(r"/$"))
        expect(page.get_by_text(f"{new} was deleted")).to_be_visible()
        expect(ui.sidebar_entry(page, new)).to_have_count(0)
