"""Files in Chromium: attach, drop and paste a picture; a PDF card; a hostile SVG; the limit.

Two people in separate browser contexts: what one sends, the other sees
live, and downloads through the members-only endpoint. The server runs
with the shipped upload limit (BLABBER_UPLOAD_MAX_MB's default).
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from blabber.settings import Settings
from tests.e2e import ui
from tests.support import sample_files

pytestmark = pytest.mark.e2e

LIMIT_MB = Settings().upload_max_mb
SEEN_WITHIN_MS = 1000  # the "within a second"


def pair(new_page, uniq) -> tuple[Page, Page]:
    a, b = new_page(), new_page()
    alice, bob, room = uniq("alice"), uniq("bob"), uniq("files")
    ui.sign_up(a, alice)
    ui.sign_up(b, bob)
    ui.join(a, room)
    ui.join(b, room)
    return a, b


def tray_done(page: Page, name: str) -> None:
    chip = page.locator("[data-attachment-list] li", has_text=name)
    expect(chip).to_have_attribute("data-status", "done")


def send_now(page: Page) -> None:
    ui.composer(page).press("Enter")


def expect_thumbnail_at(viewer: Page, name: str, timeout: float = SEEN_WITHIN_MS) -> None:
    expect(viewer.get_by_role("img", name=name)).to_be_visible(timeout=timeout)


def drop_file(page: Page, target: str, name: str, data: bytes, mime: str) -> None:
    """Drop a file onto ``target`` the way a browser does: dragenter, dragover, drop."""
    page.evaluate(
        """([selector, name, bytes, mime]) => {
            const file = new File([new Uint8Array(bytes)], name, {type: mime});
            const data = new DataTransfer();
            data.items.add(file);
            const el = document.querySelector(selector);
            for (const type of ["dragenter", "dragover", "drop"]) {
                el.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true,
                                                      dataTransfer: data}));
            }
        }""",
        [target, name, list(data), mime],
    )


def paste_file(page: Page, name: str, data: bytes, mime: str) -> None:
    page.evaluate(
        """([name, bytes, mime]) => {
            const data = new DataTransfer();
            data.items.add(new File([new Uint8Array(bytes)], name, {type: mime}));
            document.querySelector("#composer").dispatchEvent(
                new ClipboardEvent("paste", {bubbles: true, cancelable: true,
                                             clipboardData: data}));
        }""",
        [name, list(data), mime],
    )


def test_attach_drop_and_paste_each_send_a_picture_the_other_sees_at_once(new_page, uniq):
    a, b = pair(new_page, uniq)

    # Attach files: the button opens the picker (its input takes the file).
    with a.expect_file_chooser() as chooser:
        a.get_by_role("button", name="Attach files").click()
    chooser.value.set_files(
        files=[{"name": "red.png", "mimeType": "image/png", "buffer": sample_files.png()}]
    )
    tray_done(a, "red.png")
    ui.composer(a).fill("the red one")
    send_now(a)
    expect_thumbnail_at(a, "red.png", timeout=5000)
    expect_thumbnail_at(b, "red.png")
    expect(ui.composer(a)).to_have_value("")
    expect(a.locator("[data-attachment-list] li")).to_have_count(0)

    # Drag and drop onto the room, no text.
    drop_file(
        a, "[data-attachment-dropzone]", "green.png", sample_files.png(color="green"), "image/png"
    )
    tray_done(a, "green.png")
    send_now(a)
    expect_thumbnail_at(a, "green.png", timeout=5000)
    expect_thumbnail_at(b, "green.png")

    # Paste a screenshot into the composer.
    paste_file(a, "image.png", sample_files.png(color="blue"), "image/png")
    chip = a.locator("[data-attachment-list] li", has_text=re.compile(r"pasted-image-"))
    expect(chip).to_have_attribute("data-status", "done")
    pasted = chip.locator("[data-part=name]").inner_text()
    send_now(a)
    expect_thumbnail_at(b, pasted, timeout=5000)

    # The thumbnail's space is the picture's shape before it loads (40x30 shown as is).
    box = b.get_by_role("img", name="red.png").bounding_box()
    assert box is not None and (round(box["width"]), round(box["height"])) == (40, 30)
    # Clicking opens the full picture; Escape closes the viewer.
    b.get_by_role("button", name="Open red.png").click()
    viewer = b.get_by_test_id("image-viewer")
    expect(viewer.get_by_test_id("viewer-image")).to_be_visible()
    b.keyboard.press("Escape")
    expect(viewer).to_have_count(0)


def test_a_reply_to_a_file_alone_quotes_the_files_name(new_page, uniq):
    a, b = pair(new_page, uniq)
    a.locator("[data-attach-input]").set_input_files(
        files=[{"name": "plan.pdf", "mimeType": "application/pdf", "buffer": sample_files.PDF}]
    )
    tray_done(a, "plan.pdf")
    send_now(a)  # no text: the message is the file
    row = b.locator(".message-row").filter(has=b.get_by_test_id("file-card"))
    expect(row).to_contain_text("plan.pdf")
    row.hover()
    row.get_by_role("button", name="Reply").click()
    expect(b.get_by_test_id("replying-to")).to_contain_text("📎 plan.pdf")
    ui.send(b, "looks good")
    for page in (a, b):
        reply = page.locator(".message-row").filter(has=ui.message_body(page, "looks good"))
        quote = reply.get_by_test_id("reply-quote")
        expect(quote).to_contain_text("📎 plan.pdf")


def test_search_finds_a_file_by_its_name_and_by_has_file(new_page, uniq):
    a, b = pair(new_page, uniq)
    a.locator("[data-attach-input]").set_input_files(
        files=[
            {"name": "q3-forecast.pdf", "mimeType": "application/pdf", "buffer": sample_files.PDF}
        ]
    )
    tray_done(a, "q3-forecast.pdf")
    send_now(a)
    expect(b.get_by_test_id("file-card")).to_contain_text("q3-forecast.pdf")
    results = b.get_by_test_id("search-result")
    ui.search(b, "forecast")
    expect(results).to_have_count(1)
    expect(results.first.locator("mark")).to_have_text("forecast")
    ui.search(b, "has:file")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("📎 q3-forecast.pdf")


def test_a_pdf_is_a_card_that_downloads_with_its_name(new_page, uniq):
    a, b = pair(new_page, uniq)
    a.locator("[data-attach-input]").set_input_files(
        files=[{"name": "Q3 report.pdf", "mimeType": "application/pdf", "buffer": sample_files.PDF}]
    )
    tray_done(a, "Q3 report.pdf")
    ui.composer(a).fill("numbers attached")
    send_now(a)
    card = ui.message(b, "numbers attached").get_by_test_id("file-card")
    expect(card).to_contain_text("Q3 report.pdf")
    expect(card).to_contain_text("bytes")
    with b.expect_download() as download:
        card.get_by_role("link", name="Download Q3 report.pdf").click()
    assert download.value.suggested_filename == "Q3 report.pdf"
    assert download.value.path().read_bytes() == sample_files.PDF


def test_an_svg_with_a_script_is_downloaded_never_rendered(new_page, uniq):
    a, b = pair(new_page, uniq)
    a.locator("[data-attach-input]").set_input_files(
        files=[
            {
                "name": "logo.svg",
                "mimeType": "image/svg+xml",
                "buffer": sample_files.SVG_WITH_SCRIPT,
            }
        ]
    )
    tray_done(a, "logo.svg")
    send_now(a)
    card = b.get_by_test_id("file-card").filter(has_text="logo.svg")
    expect(card).to_be_visible()  # a card, not a picture
    expect(b.get_by_role("img", name="logo.svg")).to_have_count(0)
    href = card.get_by_role("link", name="Download logo.svg").get_attribute("href")
    answer = b.request.get(href)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-type-options"] == "nosniff"
    # Opening its URL in the tab downloads it; the script never runs.
    with b.expect_download() as download:
        b.evaluate("url => { window.location.href = url; }", href)
    assert download.value.suggested_filename == "logo.svg"
    assert "pwned" not in b.title()
    assert b.js_errors == [] and b.dialogs == []  # type: ignore[attr-defined]


def test_a_file_over_the_limit_is_refused_before_any_upload(new_page, uniq):
    a, _b = pair(new_page, uniq)
    uploads: list[str] = []
    a.on("request", lambda r: uploads.append(r.url) if "/api/files" in r.url else None)
    ui.composer(a).fill("my draft stays")
    big = b"\0" * (LIMIT_MB * 1024 * 1024 + 1)
    a.locator("[data-attach-input]").set_input_files(
        files=[{"name": "huge.bin", "mimeType": "application/octet-stream", "buffer": big}]
    )
    error = a.locator("[data-attachment-error]")
    expect(error).to_contain_text("huge.bin is too large")
    expect(error).to_contain_text(f"the limit is {LIMIT_MB} MB")
    time.sleep(0.3)
    assert uploads == []
    expect(ui.composer(a)).to_have_value("my draft stays")


def test_a_profile_picture_appears_on_the_other_persons_screen(new_page, uniq):
    a, b = pair(new_page, uniq)
    ui.send(a, "before my picture")
    row = ui.message(b, "before my picture")
    expect(row.get_by_test_id("author-picture")).to_have_count(0)

    a.goto("/settings")
    with a.expect_file_chooser() as chooser:
        a.get_by_role("button", name="Upload picture").click()
    chooser.value.set_files(
        files=[
            {
                "name": "me.jpg",
                "mimeType": "image/jpeg",
                "buffer": sample_files.jpeg_from_phone(300, 200),
            }
        ]
    )
    expect(a.locator("[data-avatar-status]")).to_have_text("Picture saved.")
    expect(a.get_by_role("button", name="Remove picture")).to_be_visible()

    picture = row.get_by_test_id("author-picture")
    expect(picture).to_be_visible()  # live, without a reload
    # Visible comes before loaded: wait until the browser has decoded it (a
    # picture that fails to load completes with width 0 and never passes).
    b.wait_for_function("img => img.complete", arg=picture.element_handle())
    assert b.evaluate("img => img.naturalWidth", picture.element_handle()) == 256
    member = b.get_by_test_id("member-picture")
    expect(member.first).to_be_visible()

    a.get_by_role("button", name="Remove picture").click()
    expect(a.get_by_role("button", name="Remove picture")).to_have_count(0)
    expect(row.get_by_test_id("author-picture")).to_have_count(0)


def test_files_viewer_and_profile_picture_pass_axe_in_light_and_dark(new_page, uniq):
    from tests.support import axe

    a, b = pair(new_page, uniq)
    a.locator("[data-attach-input]").set_input_files(
        files=[
            {"name": "chart.png", "mimeType": "image/png", "buffer": sample_files.png()},
            {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": sample_files.PDF},
        ]
    )
    tray_done(a, "chart.png")
    tray_done(a, "notes.pdf")
    for mode in ("light", "dark"):
        a.emulate_media(color_scheme=mode)
        axe.assert_accessible(a, f"composer with files to send ({mode} mode)")
    send_now(a)
    expect(b.get_by_test_id("file-card")).to_be_visible()
    expect_thumbnail_at(b, "chart.png", timeout=5000)
    for mode in ("light", "dark"):
        b.emulate_media(color_scheme=mode)
        axe.assert_accessible(b, f"a message with a picture and a file ({mode} mode)")
        b.get_by_role("button", name="Open chart.png").click()
        expect(b.get_by_test_id("viewer-image")).to_be_visible()
        axe.assert_accessible(b, f"the picture viewer ({mode} mode)")
        b.keyboard.press("Escape")
    a.goto("/settings")
    a.locator("[data-avatar-input]").set_input_files(
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": sample_files.png(64, 64)}]
    )
    expect(a.get_by_role("button", name="Remove picture")).to_be_visible()
    for placeholder in ("Current password", "New password", "Confirm new password"):
        a.get_by_placeholder(placeholder, exact=True).fill("text axe can measure")
    for mode in ("light", "dark"):
        a.emulate_media(color_scheme=mode)
        axe.assert_accessible(a, f"settings with a profile picture ({mode} mode)")
