"""Rooms and messages between two people in two browser contexts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import seed, ui

pytestmark = pytest.mark.e2e

LIVE_MS = 2_500  # "without reloading, within ~1-2 s", plus slack for a 2-core CI box


def test_two_people_join_one_room_and_talk_live(new_page, uniq):
    """Join by name in any case, see each other in Members, messages arrive live both ways."""
    a, b = new_page(), new_page()
    alice, bob, room = uniq("alice"), uniq("bob"), uniq("general")
    ui.sign_up(a, alice)
    ui.sign_up(b, bob)

    ui.join(a, room)
    expect(a).to_have_url(re.compile(rf"/rooms/{room}/?$"))
    ui.join(b, room.upper())
    expect(b.get_by_test_id("room-heading")).to_have_text(room)  # the room's own spelling

    for page in (a, b):
        expect(page.get_by_role("heading", name="Members")).to_be_visible()
        for name in (alice, bob):
            expect(ui.member_row(page, name)).to_contain_text("online")
        expect(ui.member_row(page, alice)).to_contain_text("admin")
        expect(ui.member_row(page, bob)).not_to_contain_text("admin")
    expect(a.get_by_test_id("system-line").filter(has_text=f"{bob} joined")).to_be_visible()

    ui.send(a, "hello from alice")
    ui.expect_message(b, "hello from alice", timeout=LIVE_MS)
    ui.send(b, "hi alice, bob here")
    ui.expect_message(a, "hi alice, bob here", timeout=LIVE_MS)
    expect(a.get_by_test_id("message").last).to_contain_text(bob)


def test_history_shows_last_ten_and_pages_older(new_page, uniq):
    """Entering a room shows the newest 10; ``Load older messages`` reveals the rest in order."""
    page = new_page()
    ui.sign_up(page, uniq("hist"))
    ui.join(page, uniq("history"))
    sent = [f"message number {i:02d}" for i in range(1, 13)]
    for text in sent:
        ui.send(page, text)

    page.reload()
    expect(ui.message_bodies(page)).to_have_count(10)
    expect(ui.message_bodies(page)).to_have_text(sent[-10:])
    older = page.get_by_role("button", name="Load older messages")
    expect(older).to_be_visible()

    older.click()
    expect(ui.message_bodies(page)).to_have_text(sent)
    expect(page.get_by_test_id("system-line").first).to_contain_text("joined")
    expect(older).to_have_count(0)  # nothing older is left


def test_user_text_is_shown_as_text_never_run(new_page, uniq):
    """HTML and script in messages render literally for sender and receiver; no dialog fires."""
    a, b = new_page(), new_page()
    room = uniq("xss")
    ui.sign_up(a, uniq("alice"))
    ui.sign_up(b, uniq("bob"))
    ui.join(a, room)
    ui.join(b, room)
    payloads = ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>"]
    for text in payloads:
        ui.send(a, text)
    for page in (a, b):
        for text in payloads:
            expect(ui.message_bodies(page).filter(has_text=text)).to_have_text(text)
        expect(page.get_by_test_id("message-list").locator("img, script")).to_have_count(0)
    b.reload()
    for text in payloads:
        ui.expect_message(b, text)
    b.wait_for_timeout(300)  # give a would-be onerror handler its chance
    assert a.dialogs == [] and b.dialogs == []
    assert a.js_errors == [] and b.js_errors == []


def test_composer_rules_long_blank_and_enter_keys(new_page, uniq):
    """Over-long is refused and kept, blank is ignored, Shift+Enter is a newline, Enter sends."""
    page = new_page()
    ui.sign_up(page, uniq("comp"))
    ui.join(page, uniq("composer"))
    box = ui.composer(page)

    too_long = "x" * 4001
    box.fill(too_long)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_test_id("composer-error")).to_contain_text("too long")
    expect(page.get_by_test_id("composer-error")).to_contain_text("4,000")
    expect(box).to_have_value(too_long)
    expect(ui.message_bodies(page)).to_have_count(0)

    box.fill("   \n\t  ")
    page.get_by_role("button", name="Send", exact=True).click()
    box.fill("")
    box.press("Enter")
    page.wait_for_timeout(500)
    expect(ui.message_bodies(page)).to_have_count(0)

    box.fill("")
    box.press_sequentially("line one")
    box.press("Shift+Enter")
    box.press_sequentially("line two")
    expect(box).to_have_value("line one\nline two")
    expect(ui.message_bodies(page)).to_have_count(0)
    box.press("Enter")
    expect(ui.message_bodies(page)).to_have_count(1)
    body = ui.message_bodies(page).first
    assert body.inner_text() == "line one\nline two"
    expect(box).to_have_value("")
    expect(page.get_by_test_id("composer-error")).to_have_count(0)


def test_room_url_survives_reload_and_back_forward(new_page, uniq):
    """``/rooms/<name>`` is the room: reload keeps it, back/forward move between rooms."""
    page = new_page()
    first, second = uniq("first"), uniq("second")
    ui.sign_up(page, uniq("nav"))
    ui.join(page, first)
    ui.send(page, "in the first room")
    ui.join(page, second)
    ui.send(page, "in the second room")

    page.reload()
    expect(page).to_have_url(re.compile(rf"/rooms/{second}/?$"))
    expect(page.get_by_test_id("room-heading")).to_have_text(second)
    ui.expect_message(page, "in the second room")

    ui.composer(page).fill("a draft meant for the second room")
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/rooms/{first}/?$"))
    expect(page.get_by_test_id("room-heading")).to_have_text(first)
    ui.expect_message(page, "in the first room")
    expect(ui.composer(page)).to_have_value("")  # a draft never follows you to another room
    expect(ui.message_bodies(page).filter(has_text="in the second room")).to_have_count(0)

    page.go_forward()
    expect(page).to_have_url(re.compile(rf"/rooms/{second}/?$"))
    expect(page.get_by_test_id("room-heading")).to_have_text(second)
    ui.expect_message(page, "in the second room")

    ui.sidebar_entry(page, first).click()
    expect(page).to_have_url(re.compile(rf"/rooms/{first}/?$"))
    ui.expect_message(page, "in the first room")


def test_non_member_sees_nothing_of_a_room(new_page, uniq):
    """Typing a room's URL without being a member shows a notice and none of its content."""
    a, b = new_page(), new_page()
    room = uniq("secret")
    ui.sign_up(a, uniq("alice"))
    ui.join(a, room)
    ui.send(a, "the secret plan")

    ui.sign_up(b, uniq("eve"))
    b.goto(f"/rooms/{room}")
    expect(b.get_by_test_id("notice")).to_contain_text("not a member")
    expect(b.get_by_test_id("notice")).to_contain_text(room)
    expect(b.get_by_text("the secret plan")).to_have_count(0)
    expect(b.get_by_role("heading", name="Members")).to_have_count(0)
    expect(ui.sidebar_entry(b, room)).to_have_count(0)
    assert "the secret plan" not in b.content()


def test_invalid_room_name_is_explained(new_page, uniq):
    """A name breaking the rules is refused with the rule, and nothing is created."""
    page = new_page()
    ui.sign_up(page, uniq("names"))
    page.get_by_placeholder("Room name").fill("no/slashes!")
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page.get_by_test_id("join-error")).to_contain_text("Room names are 1–40 characters")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_test_id("room-entry")).to_have_count(0)


def test_unicode_emoji_rtl_and_long_words_fit(new_page, uniq):
    """Any script renders as sent, and nothing makes the page scroll sideways."""
    a, b = new_page(), new_page(viewport={"width": 390, "height": 844})
    room = uniq("intl")
    ui.sign_up(a, uniq("alice"))
    ui.sign_up(b, uniq("bob"))
    ui.join(a, room)
    ui.join(b, room)
    texts = [
        "héllo wörld — ça va? 你好，世界",
        "emoji 👩‍👩‍👧‍👦🎉🇫🇷 ok",
        "مرحبا بالعالم وשלום עולם",
        "w" * 300,
    ]
    for text in texts:
        ui.send(a, text)
    for page in (a, b):
        for text in texts:
            ui.expect_message(page, text)
            expect(ui.message_bodies(page).filter(has_text=text)).to_have_text(text)
        assert ui.horizontal_overflow(page) == 0


def test_paging_past_the_window_keeps_history_contiguous(new_page, uniq, e2e_database_url):
    """Paging further back than the tab's bounded window never leaves a gap.

    As shipped, the room feed holds 50 messages and a tab holds 200 more
    while paging back (``PAGED_WINDOW_FACTOR``). Paging past that drops the
    newest end of the window, so a live message cannot be appended after a
    gap; it waits behind ``Jump to latest messages``.
    """
    reader, room = uniq("reader"), uniq("deep")
    seed.history(e2e_database_url, reader, room, 300)
    a = new_page()
    ui.log_in(a, reader)
    ui.sidebar_entry(a, room).click()
    expect(ui.message_bodies(a)).to_have_text([f"history {i}" for i in range(290, 300)])
    older = a.get_by_role("button", name="Load older messages")
    jump = a.get_by_role("button", name="Jump to latest messages")
    for _ in range(30):  # 10 per click: past 250 the newest end gives way
        if jump.is_visible():
            break
        older.click()
        expect(older).to_be_enabled()
    expect(jump).to_be_visible()
    shown = ui.message_bodies(a).all_inner_texts()
    first = int(shown[0].split()[1])
    assert shown == [f"history {i}" for i in range(first, first + len(shown))], "a gap"
    assert len(shown) <= 250 and "history 299" not in shown

    writer = new_page()
    ui.sign_up(writer, uniq("writer"))
    ui.join(writer, room)
    ui.send(writer, "live while reading history")
    a.wait_for_timeout(1_000)
    assert "live while reading history" not in ui.message_bodies(a).all_inner_texts()

    jump.click()
    expect(ui.message_bodies(a).last).to_have_text("live while reading history")
    expect(ui.message_bodies(a).first).to_have_text("history 292")  # 10 rows: + joined, live
    expect(jump).to_be_hidden()


def test_text_typed_right_after_switching_rooms_is_kept_and_sent_there(new_page, uniq):
    """The composer belongs to the room in the address bar from the click on.

    The server's answer to opening the room is held back (a WebSocket route)
    while I type, as on a slow link: what I type must survive that answer
    and go to the room I switched to, and the other room's draft must not
    follow me there.
    """
    page = new_page()
    holding: list[bool] = []
    held: list = []

    def relay(ws) -> None:
        server = ws.connect_to_server()

        def from_server(message) -> None:
            if holding:
                held.append((ws, message))
            else:
                ws.send(message)

        server.on_message(from_server)
        ws.on_message(server.send)

    page.route_web_socket(re.compile(r"/_event"), relay)
    me, first, second = uniq("alice"), uniq("first"), uniq("second")
    ui.sign_up(page, me)
    ui.join(page, second)
    ui.join(page, first)
    ui.composer(page).fill("a draft left in the first room")

    holding.append(True)
    ui.sidebar_entry(page, second).click()
    expect(page).to_have_url(re.compile(rf"/rooms/{second}/?$"))
    expect(ui.composer(page)).to_have_value("")  # the first room's draft stayed behind
    ui.composer(page).fill("typed before the room answered")
    holding.clear()
    for ws, message in held:
        ws.send(message)
    expect(page.get_by_test_id("room-heading")).to_have_text(second)
    expect(ui.composer(page)).to_have_value("typed before the room answered")
    page.get_by_role("button", name="Send", exact=True).click()
    ui.expect_message(page, "typed before the room answered")
    ui.sidebar_entry(page, first).click()
    expect(page.get_by_test_id("room-heading")).to_have_text(first)
    expect(ui.message_body(page, "typed before the room answered")).to_have_count(0)
