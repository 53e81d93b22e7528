"""Direct messages, mentions and notification levels, with three people in three browsers."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import ui

pytestmark = pytest.mark.e2e


def direct_entry(page: Page, title: str):
    """The sidebar entry of a conversation, under ``Direct messages``."""
    return page.get_by_test_id("direct-entry").filter(has_text=title)


def toasts(page: Page):
    """The toasts on screen (sonner's)."""
    return page.locator("[data-sonner-toast]")


def people(new_page, uniq, room_prefix: str, *names: str):
    """Each name signed up in a browser of their own; all but the last in one new room."""
    room = uniq(room_prefix)
    pages, usernames = [], []
    for i, name in enumerate(names):
        page, username = new_page(), uniq(name)
        ui.sign_up(page, username)
        if i < len(names) - 1:
            ui.join(page, room)
        pages.append(page)
        usernames.append(username)
    return room, pages, usernames


def test_a_direct_message_from_the_members_panel_is_private_and_live(new_page, uniq):
    room, (a, b, c), (alice, bob, _carol) = people(new_page, uniq, "dm", "alice", "bob", "carol")
    expect(ui.member_row(a, bob)).to_contain_text("online")

    a.get_by_role("button", name=f"Message {bob}").click()
    expect(a).to_have_url(re.compile(r"/dm/\d+$"))
    expect(a.get_by_test_id("room-heading")).to_have_text(bob)
    expect(ui.composer(a)).to_have_attribute("placeholder", re.compile(rf"^Message {bob} "))
    dm_url = a.url

    # B (still in the room) sees the conversation appear, named by the other person.
    expect(direct_entry(b, alice)).to_be_visible()
    ui.send(a, "just between us")
    expect(direct_entry(b, alice).get_by_test_id("unread-badge")).to_have_text("1")
    expect(b.get_by_test_id("room-heading")).to_have_text(room)  # B was not moved
    direct_entry(b, alice).click()
    expect(b).to_have_url(dm_url)
    ui.expect_message(b, "just between us")
    ui.send(b, "and a reply")
    ui.expect_message(a, "and a reply")
    expect(direct_entry(a, bob).get_by_test_id("presence-dot")).to_have_attribute(
        "data-online", "true"
    )
    expect(a.get_by_role("button", name="Leave room")).to_have_count(0)  # no leaving a DM

    # Starting it again (from the picker this time) opens the same conversation.
    a.goto("/")
    a.get_by_role("button", name="New message").click()
    a.get_by_placeholder("Find people").fill(bob[:5])
    a.get_by_role("option", name=bob).click()
    expect(a.get_by_test_id("picked-person")).to_have_text(bob)
    a.get_by_role("button", name="Open conversation").click()
    expect(a).to_have_url(dm_url)

    # C cannot open it, and learns nothing: the same answer as for no conversation.
    c.goto(dm_url)
    expect(c.get_by_test_id("notice")).to_have_text("No such conversation")
    expect(c).to_have_url(re.compile(r"/$"))
    expect(c.get_by_text("just between us")).to_have_count(0)
    c.get_by_role("button", name="Dismiss").click()
    c.goto("/dm/99999999")
    expect(c.get_by_test_id("notice")).to_have_text("No such conversation")
    expect(c.get_by_test_id("direct-entry")).to_have_count(0)


def _two_rooms(new_page, uniq):
    """Alice and Bob both in a ``ping`` room and a ``quiet`` room; Bob views ``quiet``."""
    a, b = new_page(), new_page()
    alice, bob, ping, quiet = uniq("alice"), uniq("bob"), uniq("ping"), uniq("quiet")
    ui.sign_up(a, alice)
    ui.sign_up(b, bob)
    for room in (quiet, ping):
        ui.join(a, room)
    ui.join(b, ping)
    ui.join(b, quiet)
    return a, b, alice, bob, ping, quiet


def test_a_mention_raises_a_badge_a_toast_and_the_title_count(new_page, uniq):
    a, b, alice, bob, ping, _quiet = _two_rooms(new_page, uniq)
    expect(b).to_have_title("Blabber")
    # A types @ and the first letters of bob's name, and picks him from the suggestions.
    box = ui.composer(a)
    box.click()
    box.press_sequentially(f"@{bob[:2]}")
    suggestions = a.get_by_role("listbox", name="People to mention")
    option = suggestions.get_by_role("option", name=f"@{bob}", exact=True)
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", option.get_attribute("id") or "-")
    box.press("Enter")  # inserts the name; it does not send
    expect(box).to_have_value(f"@{bob} ")
    expect(suggestions).to_have_count(0)
    box.press_sequentially("can you look at this?")
    box.press("Enter")
    ui.expect_message(a, f"@{bob} can you look at this?")
    expect(a.get_by_test_id("composer-notice")).to_have_count(0)
    entry = ui.sidebar_entry(b, ping)
    expect(entry.get_by_test_id("mention-badge")).to_have_text("@1")
    expect(entry.get_by_test_id("unread-badge")).to_have_text("1")
    expect(toasts(b).filter(has_text=f"{alice} mentioned you in {ping}")).to_have_count(1)
    expect(b).to_have_title("(1) Blabber")
    # In the room, the mention is highlighted and the badges are gone.
    entry.click()
    ui.expect_message(b, "can you look at this?")
    # Highlighted: strongly for the one it names, plainly for everyone else.
    mine = ui.message(b, f"@{bob} can you look at this?").locator(".mention")
    expect(mine).to_have_text(f"@{bob}")
    expect(mine).to_have_class(re.compile(r"\bmention-me\b"))
    theirs = ui.message(a, f"@{bob} can you look at this?").locator(".mention")
    expect(theirs).to_have_text(f"@{bob}")
    expect(theirs).not_to_have_class(re.compile(r"\bmention-me\b"))
    expect(ui.sidebar_entry(b, ping).get_by_test_id("mention-badge")).to_have_count(0)
    expect(b).to_have_title("Blabber")


def test_nothing_mutes_a_room_but_a_mention_still_gets_through(new_page, uniq):
    a, b, alice, bob, ping, quiet = _two_rooms(new_page, uniq)
    # B sets ``Nothing`` on the ping room, from its header.
    ui.sidebar_entry(b, ping).click()
    expect(b.get_by_test_id("room-heading")).to_have_text(ping)
    b.get_by_role("button", name="Notifications", exact=True).click()
    b.get_by_role("menuitemradio", name="Nothing").click()
    expect(b.get_by_role("button", name="Notifications", exact=True)).to_have_attribute(
        "data-level", "nothing"
    )
    ui.sidebar_entry(b, quiet).click()
    expect(ui.sidebar_entry(b, ping)).to_have_attribute("data-level", "nothing")

    ui.send(a, "a plain update nobody must be pinged for")
    # The positive control below arrives after this one; it must have been silent.
    ui.send(a, f"but this one is for @{bob}")
    expect(toasts(b).filter(has_text=f"{alice} mentioned you in {ping}")).to_have_count(1)
    expect(toasts(b).filter(has_text=f"New message in {ping}")).to_have_count(0)
    entry = ui.sidebar_entry(b, ping)
    expect(entry.get_by_test_id("mention-badge")).to_have_text("@1")
    expect(entry.get_by_test_id("unread-badge")).to_have_count(0)  # Nothing: no count
    expect(b).to_have_title("(1) Blabber")  # the mention counts, the plain message does not

    # The level is stored: another tab of B's (a new device) has it too.
    other = new_page()
    ui.log_in(other, bob)
    expect(ui.sidebar_entry(other, ping)).to_have_attribute("data-level", "nothing")


def test_message_a_person_from_their_name_on_a_message(new_page, uniq):
    a, b, alice, bob, ping, _quiet = _two_rooms(new_page, uniq)
    ui.sidebar_entry(b, ping).click()
    expect(b.get_by_test_id("room-heading")).to_have_text(ping)
    ui.send(a, "click my name")
    ui.expect_message(b, "click my name")
    ui.message(b, "click my name").get_by_role("button", name=alice).click()
    b.get_by_role("dialog").get_by_role("button", name=f"Message {alice}").click()
    expect(b).to_have_url(re.compile(r"/dm/\d+$"))
    expect(b.get_by_test_id("room-heading")).to_have_text(alice)
    expect(direct_entry(a, bob)).to_be_visible()


def test_mentioning_someone_outside_the_room_says_so_and_suggests_only_members(new_page, uniq):
    _room, (a, _c), (_alice, carol) = people(new_page, uniq, "lonely", "alice", "carol")
    box = ui.composer(a)
    box.click()
    box.press_sequentially(f"hello @{carol[:3]}")
    expect(a.get_by_role("listbox", name="People to mention")).to_have_count(0)  # not a member
    box.press_sequentially(carol[3:] + " and @")
    everyone = a.get_by_role("option", name="@room", exact=True)  # only me here: just @room
    expect(everyone).to_have_attribute("aria-selected", "true")
    box.press("Escape")  # closes the list, keeps the text
    expect(everyone).to_have_count(0)
    expect(box).to_have_value(f"hello @{carol} and @")
    box.press_sequentially("r")
    everyone.click()  # a click inserts it too
    expect(box).to_have_value(f"hello @{carol} and @room ")
    box.press("Enter")
    ui.expect_message(a, f"hello @{carol} and @room")
    expect(a.get_by_test_id("composer-notice")).to_have_text(
        f"@{carol} is not a member here, so was not notified"
    )
    ui.send(a, "a plain one")  # the next send clears it
    expect(a.get_by_test_id("composer-notice")).to_have_count(0)
