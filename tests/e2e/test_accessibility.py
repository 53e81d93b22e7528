"""Every page, in the states a person meets, passes axe-core in light and in dark mode.

axe-core (pinned, installed by ``make setup-dev``) is injected into the page
and must find no ``serious`` or ``critical`` violation (tests/support/axe.py).
The app follows the system's colour scheme until someone presses
``Toggle dark mode``, so each state is checked twice on the same page: with
the browser reporting ``prefers-color-scheme: light``, then ``dark``; each
time the test first asserts the page really is in that mode.

Pages are set up once for the module (sign-ups, messages, reactions) and
reused: each test only opens the state it checks and closes it again.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator
from typing import Literal

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from blabber import routes
from tests.e2e import ui
from tests.e2e.ui import TIMEOUT_MS
from tests.support import appserver, axe
from tests.support.browser import watch_csp

pytestmark = pytest.mark.e2e

Mode = Literal["light", "dark"]
MODES: tuple[Mode, ...] = ("light", "dark")
# The Radix theme root's background in each mode: far from each other, so the
# check below cannot pass on a page that only changed a class name.
_THEME_BACKGROUND = (
    "() => getComputedStyle(document.querySelector('.radix-themes')).backgroundColor"
)


@pytest.fixture(scope="module", autouse=True)
def _axe_installed() -> None:
    """Fail (never skip) at once, saying how to install it, when axe-core is missing."""
    reason = axe.missing()
    if reason:
        pytest.fail(reason, pytrace=False)


def in_mode(page: Page, mode: Mode) -> None:
    """Make ``page`` show ``mode`` (the system preference the app follows) and check it does."""
    page.emulate_media(color_scheme=mode)
    expect(page.locator("html")).to_have_class(re.compile(rf"(^|\s){mode}(\s|$)"))
    channels = [int(c) for c in re.findall(r"\d+", page.evaluate(_THEME_BACKGROUND))[:3]]
    brightness = sum(channels) / 3
    assert (brightness > 200) if mode == "light" else (brightness < 60), (
        f"the page did not turn {mode}: theme background {channels}"
    )


def check(page: Page, mode: Mode, where: str, hover: Locator | None = None) -> None:
    """axe finds nothing serious or critical on ``page`` as shown now, in ``mode``.

    The pointer rests on ``hover``, or in the page's top-left corner: what
    is checked never depends on where an earlier click left it.
    """
    in_mode(page, mode)
    if hover is None:
        page.mouse.move(0, 0)
    else:
        hover.hover()
    axe.assert_accessible(page, f"{where} ({mode} mode)")
    violations = getattr(page, "csp_violations", [])
    assert violations == [], f"Content-Security-Policy violations on {where}: {violations}"


@dataclasses.dataclass
class Room:
    """Alice (the room's admin) and Bob in a room with every kind of message row.

    Carol was removed from it (her page shows the notice), Dave has left the
    app (``offline``), and Erin, in the shell with no room open, has an unread
    message in the ``paged`` room, which has more history than one page.
    """

    alice: Page
    bob: Page
    carol: Page
    erin: Page
    name: str
    paged: str

    def open(self, page: Page, room: str | None = None) -> None:
        """Show ``room`` (default: the main one) in ``page`` unless it already is."""
        room = room or self.name
        if not page.url.endswith(f"/rooms/{room}"):
            page.goto(f"/rooms/{room}")
        expect(page.get_by_test_id("room-heading")).to_have_text(room)
        expect(ui.composer(page)).to_be_enabled()

    def own_message(self) -> Locator:
        """Alice's live message (the one with all three actions), pointed at to show them."""
        row = message(self.alice, "shall we ship it?")
        row.hover()
        return row


message = ui.message


@pytest.fixture(scope="module")
def contexts(browser: Browser, app_url: str) -> Iterator[list[BrowserContext]]:
    """Browser contexts made for this module (one per person), closed at its end."""
    made: list[BrowserContext] = []
    yield made
    for context in made:
        try:
            context.close()
        except Exception:  # closed already (Dave leaves early)
            pass


@pytest.fixture(autouse=True)
def _screenshots_on_failure(
    request: pytest.FixtureRequest, contexts: list[BrowserContext]
) -> Iterator[None]:
    """A failing test leaves every open page in ``test-artifacts/a11y-<test>-<n>.png``."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return
    appserver.ARTIFACTS.mkdir(exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    pages = [page for context in contexts for page in context.pages]
    for n, page in enumerate(pages):
        try:
            page.screenshot(path=str(appserver.ARTIFACTS / f"a11y-{safe}-{n}.png"))
        except Exception:  # a closed page cannot be captured; that is fine
            pass


@pytest.fixture(scope="module")
def person(browser: Browser, app_url: str, contexts: list[BrowserContext]):
    """Factory: a page of a new person (browser context)."""

    def make() -> Page:
        context = browser.new_context(base_url=app_url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.csp_violations = watch_csp(context)  # type: ignore[attr-defined]
        return page

    return make


@pytest.fixture(scope="module")
def tag() -> str:
    return uuid.uuid4().hex[:6]


@pytest.fixture(scope="module")
def room(person, tag: str) -> Room:
    """The people and rooms of :class:`Room`, set up through the UI."""
    alice, bob, carol, dave, erin = (person() for _ in range(5))
    name, paged = f"a11y-{tag}", f"a11y-paged-{tag}"
    for page, who in ((alice, "alice"), (bob, "bob"), (carol, "carol"), (dave, "dave")):
        ui.sign_up(page, f"{who}-{tag}")
        ui.join(page, name)
    dave.context.close()  # early: going offline takes a few seconds
    ui.sign_up(erin, f"erin-{tag}")

    ui.send(bob, "hello from bob")
    ui.send(alice, "helo bob")
    ui.send(alice, "regrettable words")
    ui.send(alice, "shall we ship it?")
    ui.expect_message(alice, "hello from bob")

    row = message(alice, "helo bob")
    row.hover()
    row.get_by_role("button", name="Edit").click()
    editor = alice.get_by_role("textbox", name="Edit message")
    editor.fill("hello bob")
    editor.press("Enter")
    expect(message(alice, "hello bob")).to_contain_text("(edited)")

    row = message(alice, "regrettable words")
    row.hover()
    row.get_by_role("button", name="Delete").click()
    alice.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(alice.get_by_test_id("message-deleted")).to_have_count(1)

    ui.expect_message(bob, "shall we ship it?")
    row = message(bob, "shall we ship it?")
    row.hover()
    row.get_by_role("button", name="React").click()
    bob.get_by_role("button", name="React with 🎉").click()
    expect(message(alice, "shall we ship it?").get_by_role("button", name="🎉 1")).to_be_visible()

    # A reply, so the list shows a quote.
    row = message(alice, "hello from bob")
    row.hover()
    row.get_by_role("button", name="Reply").click()
    ui.send(alice, "a reply to bob")
    expect(message(alice, "a reply to bob").get_by_test_id("reply-quote")).to_be_visible()

    alice.get_by_role("button", name=f"Kick carol-{tag}").click()
    expect(alice.get_by_role("button", name=f"Unban carol-{tag}")).to_be_visible()
    expect(carol.get_by_test_id("notice")).to_contain_text("You were removed from")
    expect(ui.member_row(alice, f"dave-{tag}")).to_contain_text("offline", timeout=20_000)

    ui.join(alice, paged)
    ui.join(erin, paged)
    erin.goto("/")
    for i in range(1, 13):
        ui.send(alice, f"history line {i:02d}")
    expect(ui.sidebar_entry(erin, paged).get_by_test_id("unread-badge")).to_be_visible()
    return Room(alice=alice, bob=bob, carol=carol, erin=erin, name=name, paged=paged)


@pytest.fixture(scope="module")
def visitor(person) -> Page:
    """A browser nobody is signed in on."""
    return person()


@pytest.mark.parametrize("mode", MODES)
def test_login_page_and_its_error(visitor: Page, mode: Mode) -> None:
    visitor.goto("/login")
    expect(visitor.get_by_role("button", name="Log in")).to_be_visible()
    check(visitor, mode, "/login", hover=visitor.get_by_role("button", name="Log in"))
    visitor.get_by_placeholder("Username").fill("nobody-here")
    visitor.get_by_placeholder("Password").fill("not the password")
    visitor.get_by_role("button", name="Log in").click()
    expect(visitor.get_by_text("Invalid username or password")).to_be_visible()
    check(visitor, mode, "/login with a refused password")


@pytest.mark.parametrize("mode", MODES)
def test_signup_page_and_its_error(visitor: Page, mode: Mode) -> None:
    visitor.goto("/signup")
    expect(visitor.get_by_role("button", name="Sign up")).to_be_visible()
    check(visitor, mode, "/signup", hover=visitor.get_by_role("button", name="Sign up"))
    visitor.get_by_placeholder("Username").fill("somebody-new")
    visitor.get_by_placeholder("Password").fill("short")
    visitor.get_by_role("button", name="Sign up").click()
    expect(visitor.get_by_text("Password must be at least 8 characters")).to_be_visible()
    check(visitor, mode, "/signup with a refused password")


@pytest.mark.parametrize("mode", MODES)
def test_shell_with_no_room_open_and_an_unread_badge(room: Room, mode: Mode) -> None:
    expect(room.erin.get_by_text("Welcome to Blabber")).to_be_visible()
    expect(ui.sidebar_entry(room.erin, room.paged).get_by_test_id("unread-badge")).to_be_visible()
    join = room.erin.get_by_role("button", name="Join", exact=True)
    check(room.erin, mode, "the shell with no room open", hover=join)


@pytest.mark.parametrize("mode", MODES)
def test_new_message_toast(room: Room, mode: Mode) -> None:
    room.open(room.alice, room.paged)
    ui.send(room.alice, f"news in {mode} mode")
    toast = room.erin.get_by_text(f"New message in {room.paged}").first
    expect(toast).to_be_visible()
    # Pointed at, a toast stays until the pointer leaves, so axe sees it.
    check(room.erin, mode, "the shell showing a new-message toast", hover=toast)


@pytest.mark.parametrize("mode", MODES)
def test_removed_from_a_room_notice(room: Room, mode: Mode) -> None:
    expect(room.carol.get_by_test_id("notice")).to_be_visible()
    dismiss = room.carol.get_by_role("button", name="Dismiss")
    check(room.carol, mode, "the notice of being removed from a room", hover=dismiss)


@pytest.mark.parametrize("mode", MODES)
def test_room_with_messages_reactions_and_members(room: Room, mode: Mode) -> None:
    room.open(room.alice)
    expect(room.alice.get_by_test_id("system-line").first).to_be_visible()
    expect(room.alice.get_by_test_id("reaction-chip")).to_be_visible()
    # The actions show on hover (axe checks them either way, at opacity 0 too).
    row = room.own_message()
    check(room.alice, mode, "a room with messages, reactions and the admin's Members panel", row)


@pytest.mark.parametrize("mode", MODES)
def test_room_as_a_member_who_is_not_admin(room: Room, mode: Mode) -> None:
    room.open(room.bob)
    ui.expect_message(room.bob, "shall we ship it?")
    check(room.bob, mode, "a room seen by a member", hover=message(room.bob, "hello from bob"))


@pytest.mark.parametrize("mode", MODES)
def test_react_picker_open(room: Room, mode: Mode) -> None:
    room.open(room.alice)
    room.own_message().get_by_role("button", name="React").click()
    picker = room.alice.get_by_role("button", name="React with 🎉")
    expect(picker).to_be_visible()
    try:
        check(room.alice, mode, "the React picker", hover=picker)
    finally:  # closed either way: the next tests need the room as it was
        room.alice.keyboard.press("Escape")
        expect(picker).to_have_count(0)


@pytest.mark.parametrize("mode", MODES)
def test_delete_confirmation_open(room: Room, mode: Mode) -> None:
    room.open(room.alice)
    room.own_message().get_by_role("button", name="Delete").click()
    dialog = room.alice.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Delete this message?")
    try:
        confirm = dialog.get_by_role("button", name="Delete")
        check(room.alice, mode, "the delete confirmation", hover=confirm)
    finally:
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_have_count(0)


@pytest.mark.parametrize("mode", MODES)
def test_message_editor_open(room: Room, mode: Mode) -> None:
    room.open(room.alice)
    room.own_message().get_by_role("button", name="Edit").click()
    editor = room.alice.get_by_role("textbox", name="Edit message")
    expect(editor).to_be_visible()
    try:
        check(room.alice, mode, "the message editor", hover=editor)
    finally:
        editor.press("Escape")
        expect(editor).to_have_count(0)


@pytest.mark.parametrize("mode", MODES)
def test_room_paged_back(room: Room, mode: Mode) -> None:
    page = room.alice
    page.goto(f"/rooms/{room.paged}")  # fresh: the newest page only
    room.open(page, room.paged)
    older = page.get_by_role("button", name="Load older messages")
    expect(older).to_be_visible()
    check(page, mode, "a room with older messages to load", hover=older)
    older.click()
    expect(ui.message_bodies(page).first).to_have_text("history line 01")
    check(page, mode, "a room paged back to its start")


@pytest.mark.parametrize("mode", MODES)
def test_replying_in_the_composer(room: Room, mode: Mode) -> None:
    room.open(room.alice)
    row = message(room.alice, "hello from bob")
    row.hover()
    row.get_by_role("button", name="Reply").click()
    banner = room.alice.get_by_test_id("replying-to")
    expect(banner).to_be_visible()
    try:
        check(room.alice, mode, "the composer replying to a message", hover=banner)
    finally:
        room.alice.get_by_role("button", name="Cancel reply").click()
        expect(banner).to_have_count(0)


@pytest.mark.parametrize("mode", MODES)
def test_mention_suggestions_open(room: Room, tag: str, mode: Mode) -> None:
    room.open(room.alice)
    box = ui.composer(room.alice)
    box.fill("")
    box.click()
    box.press_sequentially("@b")
    option = room.alice.get_by_role("option", name=f"@bob-{tag}", exact=True)
    expect(option).to_have_attribute("aria-selected", "true")
    try:
        check(room.alice, mode, "the composer's @ suggestions", hover=option)
    finally:
        box.press("Escape")
        box.fill("")
        expect(option).to_have_count(0)


@pytest.mark.parametrize("mode", MODES)
def test_a_permalink_highlighted(room: Room, mode: Mode) -> None:
    room.open(room.alice)
    row = room.alice.locator(".message-row").filter(has=message(room.alice, "hello from bob"))
    message_id = int((row.first.get_attribute("id") or "").removeprefix("message-"))
    room.alice.goto(routes.message_path(routes.room_path(room.name), message_id))
    expect(row.first).to_have_attribute("data-highlighted", "true")
    check(room.alice, mode, "a permalink's message, highlighted in its context")


@pytest.mark.parametrize("mode", MODES)
def test_search_results_open(room: Room, mode: Mode) -> None:
    room.open(room.alice)
    box = room.alice.get_by_placeholder("Search messages")
    box.fill("hello")
    box.press("Enter")
    panel = room.alice.get_by_role("dialog", name="Search results")
    expect(panel.get_by_test_id("search-result").first).to_be_visible()
    expect(panel.locator("mark").first).to_be_visible()
    try:
        check(room.alice, mode, "the search results, with a highlighted match")
    finally:
        room.alice.keyboard.press("Escape")
        expect(panel).to_have_count(0)
        box.fill("")


@pytest.mark.parametrize("mode", MODES)
def test_formatting_help_open(room: Room, mode: Mode) -> None:
    room.open(room.alice)
    room.alice.get_by_role("button", name="Formatting help").click()
    help_box = room.alice.get_by_role("dialog")
    expect(help_box).to_be_visible()
    try:
        check(room.alice, mode, "the Formatting help")
    finally:
        room.alice.keyboard.press("Escape")
        expect(help_box).to_have_count(0)


@pytest.mark.parametrize("mode", MODES)
def test_phone_layout_with_the_rooms_drawer(room: Room, mode: Mode) -> None:
    page = room.alice
    room.open(page)
    page.set_viewport_size({"width": 390, "height": 760})
    try:
        check(page, mode, "a room on a phone")
        page.get_by_role("button", name="Rooms").click()
        drawer = page.get_by_role("dialog")
        expect(drawer.get_by_test_id("room-entry").first).to_be_visible()
        check(page, mode, "the Rooms drawer on a phone")
        drawer.get_by_role("button", name="Close Rooms").click()
        expect(drawer).to_have_count(0)
    finally:
        page.set_viewport_size({"width": 1280, "height": 720})


@pytest.fixture(scope="module")
def conversation(room: Room, tag: str) -> str:
    """Alice's conversation with Bob (its URL), and a mention of Erin in the paged room."""
    alice = room.alice
    room.open(alice)
    alice.get_by_role("button", name=f"Message bob-{tag}").click()
    expect(alice).to_have_url(re.compile(r"/dm/\d+$"))
    expect(alice.get_by_test_id("room-heading")).to_have_text(f"bob-{tag}")
    expect(ui.composer(alice)).to_have_attribute("placeholder", re.compile(f"^Message bob-{tag}"))
    ui.send(alice, f"a word in private for @bob-{tag}")  # a mention of the reader
    url = alice.url
    room.open(alice, room.paged)
    ui.send(alice, f"@erin-{tag} a mention for you")
    badge = ui.sidebar_entry(room.erin, room.paged).get_by_test_id("mention-badge")
    expect(badge).to_be_visible()
    return url


@pytest.mark.parametrize("mode", MODES)
def test_a_direct_conversation(room: Room, conversation: str, mode: Mode) -> None:
    bob = room.bob
    if bob.url != conversation:
        bob.goto(conversation)
    ui.expect_message(bob, "a word in private")
    expect(bob.locator(".mention-me")).to_have_count(1)
    entry = bob.get_by_test_id("direct-entry").first
    check(bob, mode, "a direct conversation, listed under Direct messages", hover=entry)


@pytest.mark.parametrize("mode", MODES)
def test_the_shell_with_a_mention_badge(room: Room, conversation: str, mode: Mode) -> None:
    badge = ui.sidebar_entry(room.erin, room.paged).get_by_test_id("mention-badge")
    expect(badge).to_be_visible()
    check(room.erin, mode, "the shell with a mention badge", hover=badge)


@pytest.mark.parametrize("mode", MODES)
def test_the_new_message_picker_open(room: Room, tag: str, mode: Mode) -> None:
    page = room.alice
    room.open(page)
    page.get_by_role("button", name="New message").click()
    page.get_by_placeholder("Find people").fill(f"-{tag}")
    option = page.get_by_role("option", name=f"bob-{tag}")
    expect(option).to_be_visible()
    option.click()
    expect(page.get_by_test_id("picked-person")).to_have_count(1)
    page.get_by_placeholder("Find people").fill(f"erin-{tag}")
    expect(page.get_by_role("option", name=f"erin-{tag}")).to_be_visible()
    try:
        check(page, mode, "the New message picker with a match and a pick")
    finally:
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)


@pytest.mark.parametrize("mode", MODES)
def test_browse_rooms_open(room: Room, tag: str, mode: Mode) -> None:
    page = room.erin
    page.get_by_role("button", name="Browse rooms").click()
    page.get_by_placeholder("Filter rooms").fill(tag)
    join = page.get_by_role("button", name=f"Join {room.name}")
    expect(join).to_be_visible()
    try:
        check(page, mode, "Browse rooms with a match", hover=join)
    finally:
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)


@pytest.mark.parametrize("mode", MODES)
def test_create_room_open_with_an_error(room: Room, mode: Mode) -> None:
    page = room.erin
    page.get_by_role("button", name="Create room").click()
    dialog = page.get_by_role("dialog", name="Create room")
    dialog.get_by_label("Name").fill(room.name)  # taken
    dialog.get_by_role("switch", name="Private").focus()
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_test_id("create-error")).to_contain_text("There is already a room")
    try:
        check(page, mode, "Create room with a refused name")
    finally:
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)


@pytest.mark.parametrize("mode", MODES)
def test_add_people_open(room: Room, tag: str, mode: Mode) -> None:
    page = room.alice
    room.open(page)
    page.get_by_role("button", name="Add people").click()
    dialog = page.get_by_role("dialog", name="Add people")
    dialog.get_by_placeholder("Find people").fill(f"erin-{tag}")
    option = dialog.get_by_role("option", name=f"erin-{tag}")
    expect(option).to_be_visible()
    try:
        check(page, mode, "Add people with a match", hover=option)
    finally:
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)


@pytest.mark.parametrize("mode", MODES)
def test_room_settings_open_and_its_delete_confirmation(room: Room, mode: Mode) -> None:
    page = room.alice
    room.open(page)
    page.get_by_role("button", name="Room settings").click()
    dialog = page.get_by_role("dialog", name="Room settings")
    expect(dialog.get_by_label("Name", exact=True)).to_have_value(room.name)
    dialog.get_by_label("Topic").fill("Not saved")  # axe measures a field's text, not a hint
    try:
        check(page, mode, "Room settings", hover=dialog.get_by_role("button", name="Save"))
        dialog.get_by_role("button", name="Delete room").click()
        expect(dialog.get_by_test_id("delete-room-confirmation")).to_be_visible()
        check(page, mode, "the Delete room confirmation")
        dialog.get_by_role("button", name="Keep the room").click()
    finally:
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)


@pytest.mark.parametrize("mode", MODES)
def test_a_profile_card_open(room: Room, tag: str, mode: Mode) -> None:
    page = room.alice
    room.open(page)
    message(page, "hello from bob").get_by_test_id("message-author").click()
    card = page.get_by_test_id("profile-card")
    expect(card).to_contain_text(f"@bob-{tag}")
    expect(card.get_by_test_id("card-presence")).to_contain_text("online")
    try:
        check(page, mode, "a profile card", hover=card.get_by_role("button"))
    finally:
        page.keyboard.press("Escape")
        expect(card).to_have_count(0)


@pytest.mark.parametrize("mode", MODES)
def test_the_notifications_menu_open(room: Room, mode: Mode) -> None:
    page = room.alice
    room.open(page)
    page.get_by_role("button", name="Notifications", exact=True).click()
    choice = page.get_by_role("menuitemradio", name="Mentions only")
    expect(choice).to_be_visible()
    try:
        check(page, mode, "the Notifications menu", hover=choice)
    finally:
        page.keyboard.press("Escape")
        expect(choice).to_have_count(0)


@pytest.mark.parametrize("mode", MODES)
def test_the_settings_page_and_its_delete_dialog(room: Room, mode: Mode) -> None:
    page = room.erin
    page.goto("/settings")
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    expect(page.get_by_role("button", name="Save profile")).to_be_enabled()  # loaded
    for field, value in (("Display name", "Erin E."), ("About", "Ops"), ("Status", "Away")):
        page.get_by_label(field, exact=True).fill(value)  # axe measures text, not a hint
    page.get_by_placeholder("Current password").fill("not it at all")
    page.get_by_placeholder("New password", exact=True).fill("something new 1")
    page.get_by_placeholder("Confirm new password").fill("something new 1")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_test_id("password-error")).to_be_visible()
    check(page, mode, "the settings page with a refused password")
    page.get_by_role("button", name="Delete account").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_be_visible()
    try:
        check(page, mode, "the Delete account confirmation")
    finally:
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        page.goto("/")
