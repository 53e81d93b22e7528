"""Rooms people can find and rooms they cannot: Browse rooms, Create room, Private, Add people."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import ui

pytestmark = pytest.mark.e2e


def create_room(page: Page, name: str, topic: str = "", private: bool = False) -> None:
    """``Create room``: fill the dialog and wait for the new room to be open."""
    page.get_by_role("button", name="Create room").click()
    dialog = page.get_by_role("dialog", name="Create room")
    dialog.get_by_label("Name").fill(name)
    if topic:
        dialog.get_by_label("Topic").fill(topic)
    if private:
        dialog.get_by_role("switch", name="Private").click()
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_test_id("room-heading")).to_have_text(name)


def browse(page: Page):
    """Open ``Browse rooms``; returns the dialog."""
    page.get_by_role("button", name="Browse rooms").click()
    dialog = page.get_by_role("dialog", name="Browse rooms")
    expect(dialog).to_be_visible()
    return dialog


def test_browse_rooms_filters_and_joins(new_page, uniq):
    a, b = new_page(), new_page()
    alice, bob, lounge = uniq("alice"), uniq("bob"), uniq("lounge")
    ui.sign_up(a, alice)
    ui.sign_up(b, bob)
    create_room(a, lounge, topic="Coffee and chatter")
    expect(a.get_by_test_id("room-topic")).to_have_text("Coffee and chatter")

    dialog = browse(b)
    dialog.get_by_placeholder("Filter rooms").fill(lounge[-6:])  # the unique part
    row = dialog.get_by_test_id("listed-room").filter(has_text=lounge)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Coffee and chatter")
    expect(row).to_contain_text(re.compile(r"1 member · active (just now|\d+ minutes? ago)"))
    row.get_by_role("button", name=f"Join {lounge}").click()
    expect(dialog).to_have_count(0)
    expect(b).to_have_url(re.compile(f"/rooms/{lounge}$"))
    expect(b.get_by_test_id("room-heading")).to_have_text(lounge)
    expect(ui.sidebar_entry(b, lounge)).to_have_count(1)
    expect(ui.member_row(a, bob)).to_have_count(1)  # alice sees bob arrive live

    dialog = browse(b)
    dialog.get_by_placeholder("Filter rooms").fill(lounge)
    expect(dialog.get_by_role("button", name=f"Open {lounge}")).to_be_visible()  # a member now
    dialog.get_by_placeholder("Filter rooms").fill("no-room-is-called-this")
    expect(dialog.get_by_test_id("directory-empty")).to_have_text("No public rooms match")


def test_a_private_room_is_found_by_nobody_until_they_are_added(new_page, uniq):
    a, b = new_page(), new_page()
    alice, bob, hideout = uniq("alice"), uniq("bob"), uniq("hideout")
    ui.sign_up(a, alice)
    ui.sign_up(b, bob)
    create_room(a, hideout, private=True)
    expect(a).to_have_url(re.compile(r"/rooms/~p[0-9a-f]+$"))
    expect(a.get_by_role("img", name="Private room")).to_be_visible()
    ui.send(a, "only for us")
    url = a.url

    # bob: not in the directory, not at its URL, and its name is free to him.
    dialog = browse(b)
    dialog.get_by_placeholder("Filter rooms").fill(hideout)
    expect(dialog.get_by_test_id("directory-empty")).to_have_text("No public rooms match")
    dialog.get_by_role("button", name="Close").click()
    b.goto(url)
    refusal = "You are not a member of that room. Join it by name first."  # as for any name
    expect(b.get_by_text(refusal)).to_be_visible()
    expect(b).to_have_url(re.compile(r"/$"))
    expect(ui.message_bodies(b).filter(has_text="only for us")).to_have_count(0)
    ui.join(b, hideout)  # what an unused name does: a new public room, bob its admin
    expect(b).to_have_url(re.compile(f"/rooms/{hideout}$"))
    expect(ui.message_bodies(b)).to_have_count(0)
    expect(ui.member_row(b, alice)).to_have_count(0)

    # alice adds bob from the Members panel: the room appears in his sidebar, live.
    a.get_by_role("button", name="Add people").click()
    adding = a.get_by_role("dialog", name="Add people")
    adding.get_by_placeholder("Find people").fill(bob)
    adding.get_by_role("option").filter(has_text=bob).click()
    adding.get_by_role("button", name="Add", exact=True).click()
    expect(adding).to_have_count(0)
    expect(ui.member_row(a, bob)).to_have_count(1)
    entry = ui.sidebar_entry(b, hideout).filter(has=b.get_by_role("img", name="Private"))
    expect(entry).to_have_count(1)  # beside his own public one of the same name
    entry.click()
    expect(b.get_by_test_id("room-heading")).to_have_text(hideout)
    ui.expect_message(b, "only for us")
    expect(b.get_by_text(f"{alice} added {bob}")).to_be_visible()
