"""Drive Blabber's pages in Chromium the way a person does (Playwright, sync API)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

TIMEOUT_MS = 20_000


def sign_up(page: Page, base_url: str, username: str, password: str = "correct horse 1") -> None:
    """Create an account through /signup and wait for the app shell."""
    page.goto(f"{base_url}/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_test_id("current-username")).to_have_text(username, timeout=TIMEOUT_MS)


def join_room(page: Page, room: str) -> None:
    """Join (or create) ``room`` from the sidebar and wait until it is open."""
    page.get_by_label("Room name").fill(room)
    page.get_by_role("button", name="Join").click()
    expect(page).to_have_url(re.compile(rf"/rooms/{room}/?$"), timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("room-heading")).to_contain_text(room, timeout=TIMEOUT_MS)


def send(page: Page, text: str) -> None:
    """Type and send a message; returns once the sender's own list shows it."""
    composer = page.locator("#composer")
    composer.fill(text)
    page.get_by_role("button", name="Send").click()
    expect_message(page, text)


def expect_message(page: Page, text: str, timeout_ms: int = TIMEOUT_MS) -> None:
    """The message list shows ``text`` (without reloading the page)."""
    expect(page.get_by_test_id("message-body").filter(has_text=text)).to_have_count(
        1, timeout=timeout_ms
    )
