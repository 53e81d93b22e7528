"""``/settings`` in the browser: change password, log out everywhere, delete the account."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import ui

pytestmark = pytest.mark.e2e
NEW_PASSWORD = "a brand new one 2"


def open_settings(page: Page) -> None:
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()


def change_password(page: Page, current: str, new: str) -> None:
    page.get_by_placeholder("Current password").fill(current)
    page.get_by_placeholder("New password", exact=True).fill(new)
    page.get_by_placeholder("Confirm new password").fill(new)
    page.get_by_role("button", name="Change password").click()


def test_a_new_password_logs_out_my_other_sessions_live(new_page, uniq):
    here, there = new_page(), new_page()
    alice = uniq("alice")
    ui.sign_up(here, alice)
    ui.log_in(there, alice)
    open_settings(here)
    change_password(here, "not my password", NEW_PASSWORD)
    expect(here.get_by_test_id("password-error")).to_have_text("That is not your current password")
    expect(there.get_by_test_id("current-username")).to_have_text(alice)  # nothing happened
    change_password(here, ui.PASSWORD, NEW_PASSWORD)
    expect(here.get_by_test_id("password-done")).to_have_text(
        "Password changed. 1 other session was logged out."
    )
    expect(here.get_by_placeholder("Current password")).to_have_value("")
    expect(there).to_have_url(re.compile(r"/login/?$"))  # live, without a reload
    ui.log_in(there, alice, NEW_PASSWORD)

    open_settings(there)
    there.get_by_role("button", name="Log out everywhere").click()
    expect(there).to_have_url(re.compile(r"/login/?$"))
    expect(here).to_have_url(re.compile(r"/login/?$"))


def test_a_deleted_account_leaves_its_messages_as_from_deleted_user(new_page, uniq):
    a, b = new_page(), new_page()
    alice, bob, room = uniq("alice"), uniq("bob"), uniq("farewell")
    ui.sign_up(a, alice)
    ui.sign_up(b, bob)
    ui.join(a, room)
    ui.join(b, room)
    ui.send(a, "my last words")
    ui.expect_message(b, "my last words")

    open_settings(a)
    a.get_by_role("button", name="Delete account").click()
    dialog = a.get_by_role("alertdialog")
    dialog.get_by_placeholder("Password").fill("wrong password!")
    dialog.get_by_role("button", name="Delete account").click()
    expect(dialog.get_by_test_id("account-error")).to_have_text("That is not your current password")
    dialog.get_by_placeholder("Password").fill(ui.PASSWORD)
    dialog.get_by_role("button", name="Delete account").click()
    expect(a).to_have_url(re.compile(r"/login/?$"))

    expect(
        b.get_by_test_id("system-line").filter(has_text=f"{alice} deleted their account")
    ).to_be_visible()
    b.reload()
    expect(ui.message(b, "my last words").get_by_test_id("message-author")).to_have_text(
        "Deleted user"
    )
    expect(ui.member_row(b, alice)).to_have_count(0)
    a.get_by_placeholder("Username").fill(alice)
    a.get_by_placeholder("Password").fill(ui.PASSWORD)
    a.get_by_role("button", name="Log in").click()
    expect(a.get_by_text("Invalid username or password")).to_be_visible()
