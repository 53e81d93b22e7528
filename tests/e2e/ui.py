"""Drive Blabber's screens the way a person does, using the UI's own words."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

TIMEOUT_MS = 15_000
PASSWORD = "correct horse 1"


def _submit_credentials(page: Page, path: str, button: str, username: str, password: str):
    """Fill a credentials form and wait for the shell to show the username."""
    page.goto(path)
    page.get_by_placeholder("Username").fill(username)
    page.get_by_placeholder("Password").fill(password)
    page.get_by_role("button", name=button).click()
    expect(page.get_by_test_id("current-username")).to_have_text(username)


def sign_up(page: Page, username: str, password: str = PASSWORD) -> None:
    """Create an account through /signup and land in the shell."""
    _submit_credentials(page, "/signup", "Sign up", username, password)
    expect(page).to_have_url(re.compile(r"/$"))


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Log in through /login and wait for the shell."""
    _submit_credentials(page, "/login", "Log in", username, password)


def join(page: Page, room: str) -> None:
    """Type ``room`` in the join box, press Join, wait for the room to be open."""
    page.get_by_placeholder("Room name").fill(room)
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page.get_by_test_id("room-heading")).to_have_text(
        re.compile(rf"^{re.escape(room)}$", re.IGNORECASE)
    )
    expect(page.get_by_placeholder(re.compile(r"^Message"))).to_be_enabled()


def composer(page: Page):
    """The message textarea."""
    return page.get_by_placeholder(re.compile(r"^Message"))


def send(page: Page, text: str, shown: str | None = None) -> None:
    """Type ``text`` and press Send; returns once the sender sees it in the list.

    Messages are Markdown: ``shown`` is the text the body reads once rendered
    (``**hi**`` reads ``hi``), when that differs from ``text``.
    """
    composer(page).fill(text)
    page.get_by_role("button", name="Send", exact=True).click()
    expect_message(page, text if shown is None else shown)
    expect(composer(page)).to_have_value("")


def message_bodies(page: Page):
    """The user-message bodies in the open room, in display order."""
    return page.get_by_test_id("message-body")


def message_body(page: Page, shown: str):
    """The one message body in the open room that reads ``shown``."""
    return message_bodies(page).filter(has_text=shown)


def expect_message(page: Page, text: str, timeout: float = TIMEOUT_MS) -> None:
    """The open room shows exactly one user message with body ``text``."""
    expect(message_bodies(page).filter(has_text=text)).to_have_count(1, timeout=timeout)


def member_row(page: Page, username: str):
    """The Members row of ``username``."""
    return page.get_by_test_id("member-row").filter(
        has=page.get_by_test_id("member-name").get_by_text(username, exact=True)
    )


def sidebar_entry(page: Page, room: str):
    """The sidebar link of ``room``."""
    return page.get_by_test_id("room-entry").filter(has_text=room)


def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the viewport (0 = no sideways scrolling)."""
    return page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth"
        " - document.documentElement.clientWidth)"
    )


def message(page: Page, text: str):
    """The message whose body is ``text`` (not a reply quoting it)."""
    body = page.get_by_test_id("message-body").get_by_text(text, exact=True)
    return page.get_by_test_id("message").filter(has=body)


def search(page: Page, query: str) -> None:
    """Ctrl+K, type ``query`` in ``Search messages``, Enter: the results panel opens."""
    page.keyboard.press("Control+k")
    box = page.locator("input:focus")  # the sidebar's field, or the open panel's own
    expect(box).to_have_attribute("placeholder", "Search messages")
    box.fill(query)
    box.press("Enter")
    expect(page.get_by_role("dialog", name="Search results")).to_be_visible()
