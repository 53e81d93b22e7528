"""Reading a room: replies, permalinks, grouping, dividers, and not being yanked while reading."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from blabber import routes
from blabber.db import make_engine
from tests.e2e import seed, ui
from tests.e2e.test_live_features import two_in_a_room

pytestmark = pytest.mark.e2e


message = ui.message


def _body(page, text: str):
    return page.get_by_test_id("message-body").get_by_text(text, exact=True)


def row_of(page, text: str):
    """The whole list row (dividers included) of the message whose body is ``text``."""
    return page.locator(".message-row").filter(has=_body(page, text))


def test_a_reply_quotes_its_original_and_the_quote_jumps_to_it(new_page, uniq):
    a, b, alice, _bob, _room = two_in_a_room(new_page, uniq, "reply")
    ui.send(a, "the original question")
    message(b, "the original question").hover()
    message(b, "the original question").get_by_role("button", name="Reply").click()
    expect(b.get_by_test_id("replying-to")).to_contain_text(f"Replying to {alice}")
    b.get_by_role("button", name="Cancel reply").click()
    expect(b.get_by_test_id("replying-to")).to_have_count(0)
    message(b, "the original question").hover()
    message(b, "the original question").get_by_role("button", name="Reply").click()
    ui.send(b, "the answer")
    expect(b.get_by_test_id("replying-to")).to_have_count(0)  # sent: the reply is done
    for page in (a, b):
        quote = message(page, "the answer").get_by_test_id("reply-quote")
        expect(quote).to_contain_text(alice)
        expect(quote).to_contain_text("the original question")
    # Push the original out of the newest page, then follow the quote back to it.
    for i in range(9):  # the newest page is 10: the answer stays, the original goes
        ui.send(a, f"filler {i}")
    a.reload()
    expect(message(a, "the original question")).to_have_count(0)
    message(a, "the answer").get_by_test_id("reply-quote").click()
    expect(row_of(a, "the original question")).to_have_attribute("data-highlighted", "true")
    expect(message(a, "the original question")).to_be_in_viewport()
    # A deleted original reads as such in the quote, for everyone.
    message(a, "the original question").hover()
    message(a, "the original question").get_by_role("button", name="Delete").click()
    a.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(message(b, "the answer").get_by_test_id("reply-quote")).to_contain_text(
        "Original message deleted"
    )


def test_a_permalink_500_messages_back_opens_highlighted_in_context(
    new_page, uniq, e2e_database_url
):
    owner, room = uniq("archivist"), uniq("archive")
    ids = seed.history(e2e_database_url, owner, room, 520)
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    ui.log_in(page, owner)
    ui.sidebar_entry(page, room).click()
    expect(message(page, "history 519")).to_be_visible()
    # Copy link gives this message's permalink.
    message(page, "history 519").hover()
    message(page, "history 519").get_by_role("button", name="Copy link").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith(routes.message_path(routes.room_path(room), ids[519])), copied

    target = ids[519 - 500]
    page.goto(routes.message_path(routes.room_path(room), target))
    expect(row_of(page, "history 19")).to_have_attribute("data-highlighted", "true")
    expect(message(page, "history 19")).to_be_in_viewport()
    for neighbour in ("history 18", "history 20"):  # its context, before and after
        expect(message(page, neighbour)).to_have_count(1)
    expect(message(page, "history 519")).to_have_count(0)  # the live end waits
    page.get_by_role("button", name="Jump to latest messages").click()
    expect(message(page, "history 519")).to_be_visible()
    expect(message(page, "history 19")).to_have_count(0)

    # A stranger with the link learns nothing about the message.
    stranger = new_page()
    ui.sign_up(stranger, uniq("stranger"))
    stranger.goto(routes.message_path(routes.room_path(room), target))
    expect(stranger.get_by_test_id("notice")).to_contain_text("not a member")
    expect(stranger.get_by_text("history 19")).to_have_count(0)


def test_one_heading_per_run_of_messages_and_a_day_divider(new_page, uniq):
    a, b, alice, bob, _room = two_in_a_room(new_page, uniq, "group")
    for text in ("first of three", "second of three", "third of three"):
        ui.send(a, text)
    ui.send(b, "bob butts in")
    authors = a.get_by_test_id("message-author")
    expect(authors.filter(visible=True)).to_have_text([alice, bob])
    expect(a.get_by_test_id("day-divider").filter(visible=True)).to_have_text(["Today"])
    # The full date and time on hover (the time's title).
    title = message(a, "first of three").get_by_test_id("message-time").get_attribute("title")
    assert title and re.search(r"\d{4}", title), title


def test_new_messages_divider_marks_what_arrived_while_i_was_away(new_page, uniq):
    a, b, _alice, _bob, room = two_in_a_room(new_page, uniq, "unread")
    ui.send(a, "read before")
    ui.expect_message(b, "read before")
    b.wait_for_timeout(3_500)  # read marks are written every few seconds
    b.goto("/")
    # The shell lists the rooms once the server has moved this tab off the room;
    # a message sent before that still reaches it as the room's viewer.
    expect(ui.sidebar_entry(b, room)).to_have_attribute("aria-current", "false")
    ui.send(a, "new while away")
    ui.send(a, "also new")
    ui.sidebar_entry(b, room).click()
    divider = row_of(b, "new while away").get_by_test_id("new-messages-divider")
    expect(divider).to_have_text("New messages")
    expect(b.get_by_test_id("new-messages-divider")).to_have_count(1)


def test_arrivals_while_scrolled_up_wait_behind_jump_to_latest(new_page, uniq, e2e_database_url):
    owner, room = uniq("reader"), uniq("scroll")
    seed.history(e2e_database_url, owner, room, 40)
    reader = new_page(viewport={"width": 1280, "height": 500})  # the list scrolls, not the page
    ui.log_in(reader, owner)
    ui.sidebar_entry(reader, room).click()
    reader.get_by_role("button", name="Load older messages").click()
    expect(message(reader, "history 20")).to_have_count(1)
    writer = new_page()
    ui.sign_up(writer, uniq("writer"))
    ui.join(writer, room)
    reader.evaluate("document.getElementById('message-list').scrollTop = 0")
    reader.wait_for_timeout(300)
    ui.send(writer, "arrived below one")
    ui.send(writer, "arrived below two")
    jump = reader.get_by_role("button", name=re.compile(r"^Jump to latest \(\d+ new\)$"))
    expect(jump).to_have_accessible_name(re.compile(r"\(2 new\)|\(3 new\)"))  # + "joined"
    expect(message(reader, "arrived below two")).not_to_be_in_viewport()  # not yanked
    jump.click()
    expect(message(reader, "arrived below two")).to_be_in_viewport()
    expect(jump).to_be_hidden()


def test_up_arrow_in_the_empty_composer_edits_my_last_message(new_page, uniq):
    a, _b, _alice, _bob, _room = two_in_a_room(new_page, uniq, "uparrow")
    ui.send(a, "typo hree")
    ui.composer(a).press("ArrowUp")
    editor = a.get_by_role("textbox", name="Edit message")
    expect(editor).to_have_value("typo hree")
    editor.fill("typo here")
    editor.press("Enter")
    ui.expect_message(a, "typo here")


def test_the_picker_finds_an_emoji_by_name(new_page, uniq):
    a, b, _alice, _bob, _room = two_in_a_room(new_page, uniq, "picker")
    ui.send(a, "we shipped it")
    message(b, "we shipped it").hover()
    message(b, "we shipped it").get_by_role("button", name="React").click()
    b.get_by_placeholder("Search emoji").fill("party")
    b.get_by_role("button", name="React with party popper").click()
    for page in (a, b):
        expect(message(page, "we shipped it").get_by_role("button", name="🎉 1")).to_be_visible()


def test_twenty_quick_messages_are_all_accepted_with_shipped_defaults(
    new_page, uniq, e2e_database_url
):
    a, b, _alice, _bob, room = two_in_a_room(new_page, uniq, "pace")
    box = ui.composer(a)
    for i in range(20):  # as fast as a person pasting lines: no wait for each to show
        box.fill(f"quick {i}")
        box.press("Enter")
        expect(box).to_have_value("")
    ui.expect_message(b, "quick 19")
    expect(a.get_by_test_id("composer-error")).to_have_count(0)
    engine = make_engine(e2e_database_url)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text(
                "SELECT count(*) FROM messages WHERE body LIKE 'quick %' AND room_id ="
                " (SELECT id FROM rooms WHERE name = :r)"
            ),
            {"r": room},
        ).scalar_one()
    engine.dispose()
    assert stored == 20


def test_on_a_phone_the_room_fills_the_screen_and_panels_are_drawers(new_page, uniq):
    phone = {"viewport": {"width": 390, "height": 760}, "is_mobile": True, "has_touch": True}
    a = new_page(**phone)
    alice, room, other = uniq("alice"), uniq("phone"), uniq("elsewhere")
    ui.sign_up(a, alice)
    ui.join(a, other)
    a.goto("/")  # no room open: the sidebar is the page
    ui.join(a, room)
    ui.send(a, "hello from a phone")
    expect(a.get_by_placeholder("Room name")).to_be_hidden()  # the sidebar is a drawer now
    expect(ui.composer(a)).to_be_in_viewport()
    assert ui.horizontal_overflow(a) == 0
    a.get_by_role("button", name="Members").click()
    drawer = a.get_by_role("dialog")
    expect(drawer.get_by_test_id("member-name")).to_have_text([alice])
    drawer.get_by_role("button", name="Close Members").click()
    expect(drawer).to_have_count(0)
    a.get_by_role("button", name="Rooms").click()
    a.get_by_role("dialog").get_by_test_id("room-entry").filter(has_text=other).click()
    expect(a.get_by_test_id("room-heading")).to_have_text(other)
    expect(a.get_by_role("dialog")).to_have_count(0)  # following a room closes the drawer
