"""Edit, delete and react to a message, seen live by a second person in another browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e import ui
from tests.e2e.test_live_features import two_in_a_room

pytestmark = pytest.mark.e2e


def message(page, text: str):
    """The message row whose body contains ``text``."""
    return page.get_by_test_id("message").filter(has=page.get_by_text(text))


def test_edit_with_enter_shows_edited_to_everyone_and_escape_cancels(new_page, uniq):
    a, b, _alice, _bob, _room = two_in_a_room(new_page, uniq, "edit")
    ui.send(a, "helo everyone")
    ui.expect_message(b, "helo everyone")

    row = message(a, "helo everyone")
    row.hover()
    row.get_by_role("button", name="Edit").click()
    editor = a.get_by_role("textbox", name="Edit message")
    expect(editor).to_have_value("helo everyone")
    editor.fill("throwaway")
    editor.press("Escape")  # cancels: the text stays as it was
    expect(editor).to_have_count(0)
    ui.expect_message(a, "helo everyone")

    row.hover()
    row.get_by_role("button", name="Edit").click()
    editor.fill("hello everyone")
    editor.press("Enter")
    for page in (a, b):  # the author and the other viewer, live
        ui.expect_message(page, "hello everyone")
        expect(message(page, "hello everyone")).to_contain_text("(edited)")
    # Only my own messages offer Edit.
    message(b, "hello everyone").hover()
    expect(message(b, "hello everyone").get_by_role("button", name="Edit")).to_have_count(0)


def test_emptying_a_message_is_refused_with_a_clear_message(new_page, uniq):
    a, _b, _alice, _bob, _room = two_in_a_room(new_page, uniq, "empty")
    ui.send(a, "keep this")
    message(a, "keep this").hover()
    message(a, "keep this").get_by_role("button", name="Edit").click()
    editor = a.get_by_role("textbox", name="Edit message")
    editor.fill("   ")
    editor.press("Enter")
    expect(a.get_by_test_id("action-error")).to_contain_text("delete it instead")
    expect(editor).to_be_visible()  # still editing: nothing lost


def test_delete_asks_first_and_the_message_disappears_for_everyone(new_page, uniq):
    a, b, _alice, _bob, _room = two_in_a_room(new_page, uniq, "delete")
    ui.send(a, "regrettable words")
    ui.expect_message(b, "regrettable words")
    row = message(a, "regrettable words")
    row.hover()
    row.get_by_role("button", name="Delete").click()
    dialog = a.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Delete this message?")
    dialog.get_by_role("button", name="Cancel").click()
    ui.expect_message(a, "regrettable words")  # cancelled: still there

    row.hover()
    row.get_by_role("button", name="Delete").click()
    a.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    for page in (a, b):
        expect(ui.message_bodies(page).filter(has_text="regrettable words")).to_have_count(0)
        expect(page.get_by_test_id("message-deleted")).to_have_count(1)


def test_a_reaction_chip_counts_and_toggles_live(new_page, uniq):
    a, b, _alice, _bob, _room = two_in_a_room(new_page, uniq, "react")
    ui.send(a, "ship it?")
    ui.expect_message(b, "ship it?")
    row = message(b, "ship it?")
    row.hover()
    row.get_by_role("button", name="React").click()
    b.get_by_role("button", name="React with 🎉").click()
    for page in (a, b):
        expect(message(page, "ship it?").get_by_role("button", name="🎉 1")).to_be_visible()
    message(a, "ship it?").get_by_role("button", name="🎉 1").click()  # alice adds hers
    for page in (a, b):
        expect(message(page, "ship it?").get_by_role("button", name="🎉 2")).to_be_visible()
    message(b, "ship it?").get_by_role("button", name="🎉 2").click()  # bob takes his back
    for page in (a, b):
        expect(message(page, "ship it?").get_by_role("button", name="🎉 1")).to_be_visible()
