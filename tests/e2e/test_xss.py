"""Stored and reflected XSS: hostile text is shown literally wherever Blabber shows user text.

User text reaches the browser along three paths: React text nodes (message
list, system lines, Members panel, sidebar, typing line, headings, notices,
toasts), a JavaScript string inside a script Reflex ``eval``s (browser
notifications, ``notify`` in ``blabber/state/sidebar.py``), and the URL
(``/rooms/<name>`` echoes an unknown name in a notice). Every payload below
would set ``window.__xss`` (or open a dialog) if it ever ran as HTML or
code; each test asserts it never does and that the text reads back exactly.

Usernames and room names are restricted to letters, digits and a little
punctuation, so markup can only ever be *offered* there: the tests prove it
is refused with the rule shown as plain text, and use the hostile names the
rules do allow (``__proto__``, a JavaScript object's magic key).

Message bodies are Markdown (``blabber/components/markdown.py``): raw HTML
in them must stay text, and a link may only ever lead to an absolute
``http(s)://`` or ``mailto:`` URL; any other link is left without an href.
"""

from __future__ import annotations

import re
import urllib.parse

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import ui

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

# Each payload, if it ever ran, sets window.__xss (and alerts, so a dialog fires too).
HOSTILE_BODIES = [
    '<img src=x onerror="window.__xss=1;alert(1)">',
    "<script>window.__xss=1;alert(1)</script>",
    '"><svg onload=window.__xss=1;alert(1)>',
    "javascript:window.__xss=1;alert(1)//",
    "{{7*7}} ${7*7} <%= 7*7 %> #{7*7}",
    # The notification path: a JavaScript string inside eval'd code.
    "`;window.__xss=1;alert(1);` ${window.__xss=1}",
    '"); window.__xss=1; alert(1); ("',
    "\\\"); window.__xss=1; //\u2028'); window.__xss=1; //</script><!--",
    '<iframe srcdoc="<script>parent.__xss=1;parent.alert(1)</script>"></iframe>',
]
# How the bodies above read once rendered as Markdown, where that differs:
# emphasis and code spans drop their markers, a backslash escapes the quote.
SHOWN = {
    "{{7*7}} ${7*7} <%= 7*7 %> #{7*7}": "{{77}} ${77} <%= 77 %> #{77}",
    "`;window.__xss=1;alert(1);` ${window.__xss=1}": ";window.__xss=1;alert(1); ${window.__xss=1}",
    "\\\"); window.__xss=1; //\u2028'); window.__xss=1; //</script><!--": (
        "\"); window.__xss=1; //\u2028'); window.__xss=1; //</script><!--"
    ),
}


def shown(body: str) -> str:
    """What the message body ``body`` (or ``again: <body>``) reads once rendered."""
    for raw, rendered in SHOWN.items():
        body = body.replace(raw, rendered)
    return body


# Offered as usernames and room names: every one breaks the naming rules.
HOSTILE_NAMES = [
    "<img src=x onerror=window.__xss=1>",
    '"><svg onload=window.__xss=1>',
    "javascript:alert(1)",
    "{{7*7}}",
    "`${window.__xss=1}`",
]
# Echoed from the URL into "You are not a member of <name>" (no "/": it splits the path).
HOSTILE_URL_NAMES = [
    "<img src=x onerror=window.__xss=1;alert(1)>",
    '"><svg onload=window.__xss=1>',
    "{{7*7}} ${7*7}",
]
USERNAME_RULE = "Username must be 3–32 characters: letters, digits, _ . or -"
ROOM_RULE = "Room names are 1–40 characters: letters, digits, spaces, - or _"
# Markup a payload would create inside a container of user text.
MARKUP = "img, script, svg, iframe, a[href^='javascript']"
# Elements no message body may hold, whatever its Markdown. Its formatting
# (strong, em, del, code, pre and the highlighter's spans, blockquote, lists,
# tables, links) is allowed; the page's own icons and buttons sit outside
# the bodies. Any on* handler, srcdoc or a link to anything but http(s) or
# mailto also counts.
FOREIGN_TAGS = (
    "script, iframe, frame, frameset, object, embed, svg, math, img, picture, video, audio,"
    " source, track, link, meta, base, style, form, button, textarea, select, template"
)
FOREIGN = """(bodies, tags) => bodies.flatMap((body) => [...body.querySelectorAll('*')])
  .filter((e) => e.matches(tags)
    || [...e.attributes].some((a) => /^on/i.test(a.name) || /^(srcdoc|formaction)$/i.test(a.name))
    || (e.tagName === 'A' && e.hasAttribute('href')
        && !/^(https?:|mailto:)/i.test(e.getAttribute('href'))))
  .map((e) => e.outerHTML.slice(0, 200))"""


def foreign_markup(page) -> list[str]:
    """Elements in the message bodies that no message may create (see ``FOREIGN_TAGS``)."""
    return ui.message_bodies(page).evaluate_all(FOREIGN, FOREIGN_TAGS)


def link_hrefs(page) -> list[str | None]:
    """The href of every link in the message bodies (``None``: a link with no href)."""
    return ui.message_bodies(page).evaluate_all(
        "(bodies) => bodies.flatMap((b) => [...b.querySelectorAll('a')])"
        ".map((a) => a.getAttribute('href'))"
    )


# Anywhere on the page: an element a payload created (attributes or script naming __xss,
# an iframe). Form fields are skipped: a refused name stays typed in its input.
INJECTED = """() => [...document.querySelectorAll('*')].filter(e =>
  !['INPUT', 'TEXTAREA'].includes(e.tagName) && (
    e.tagName === 'IFRAME'
    || [...e.attributes].some(a => a.value.includes('__xss'))
    || (e.tagName === 'SCRIPT' && e.textContent.includes('__xss'))
  )).map(e => e.outerHTML.slice(0, 300))"""

# Records browser notifications instead of showing them, and lets the test
# hide the tab (Blabber notifies only when ``document.hidden``). Only
# ``document.hidden`` is overridden: Reflex's socket reconnects on
# ``visibilityState``, which stays "visible".
CAPTURE_NOTIFICATIONS = """
window.__notes = [];
window.__hideTab = false;
(() => {
  class RecordingNotification {
    constructor(title, options) {
      window.__notes.push({title: String(title), body: String((options || {}).body)});
    }
    static get permission() { return Notification.__real.permission; }
    static requestPermission() { return Notification.__real.requestPermission(); }
  }
  RecordingNotification.__real = window.Notification;
  window.Notification = RecordingNotification;
  Object.defineProperty(document, 'hidden', {
    configurable: true,
    get: () => window.__hideTab === true,
  });
})();
"""


def open_page(new_page) -> Page:
    """A person whose browser granted notifications and records them in ``window.__notes``."""
    page = new_page(permissions=["notifications"])
    page.add_init_script(CAPTURE_NOTIFICATIONS)
    return page


def body_texts(page: Page) -> list[str]:
    """The exact text (``textContent``, no whitespace folding) of each message body shown."""
    return ui.message_bodies(page).all_text_contents()


def assert_nothing_ran(*pages: Page) -> None:
    """No payload became markup or ran: ``window.__xss`` undefined, no dialog, no page error."""
    for page in pages:
        page.wait_for_timeout(200)  # a would-be onerror/onload handler gets its chance
        assert page.evaluate(INJECTED) == [], page.url
        assert page.evaluate("() => typeof window.__xss") == "undefined", page.url
        assert page.dialogs == [], page.dialogs  # type: ignore[attr-defined]
        assert page.js_errors == [], page.js_errors  # type: ignore[attr-defined]


def test_hostile_names_are_refused_and_echoed_only_as_text(new_page, uniq):
    """Markup offered as a username, room name or room URL: refused, shown literally."""
    page = open_page(new_page)
    page.goto("/signup")
    for name in HOSTILE_NAMES:
        page.get_by_placeholder("Username").fill(name)
        page.get_by_placeholder("Password").fill(ui.PASSWORD)
        page.get_by_role("button", name="Sign up").click()
        expect(page.get_by_test_id("form-error")).to_have_text(USERNAME_RULE)
        expect(page).to_have_url(re.compile(r"/signup/?$"))
        expect(page.get_by_test_id("form-error").locator(MARKUP)).to_have_count(0)
    assert_nothing_ran(page)

    ui.sign_up(page, uniq("namer"))
    for name in HOSTILE_NAMES:
        page.get_by_placeholder("Room name").fill(name)
        page.get_by_role("button", name="Join", exact=True).click()
        expect(page.get_by_test_id("join-error")).to_have_text(ROOM_RULE)
        expect(page.get_by_test_id("join-error").locator(MARKUP)).to_have_count(0)
        expect(page.get_by_test_id("room-entry")).to_have_count(0)
    assert_nothing_ran(page)

    # Reflected: a crafted link to /rooms/<markup> is not repeated in the app's
    # voice; only a name that could be a room's is echoed.
    for name in HOSTILE_URL_NAMES:
        page.goto("/rooms/" + urllib.parse.quote(name, safe=""))
        expect(page.get_by_test_id("notice")).to_have_text(
            "You are not a member of that room. Join it by name first."
        )
        expect(page.get_by_test_id("notice").locator(MARKUP)).to_have_count(0)
    assert_nothing_ran(page)
    plain = uniq("plain")
    page.goto(f"/rooms/{plain}")
    expect(page.get_by_test_id("notice")).to_have_text(
        f"You are not a member of {plain}. Join it by name first."
    )


def test_hostile_message_bodies_render_as_text_everywhere(new_page, uniq):
    """Message list (live, both sides, after reload), system lines, Members, sidebar,
    typing line, toasts and browser notifications all show the text; nothing runs.

    The sender is named ``__proto__`` (allowed by the rules, and the one name
    that misbehaves as a JavaScript object key), so every place that shows a
    username is exercised with it too.
    """
    a, b = open_page(new_page), open_page(new_page)
    alice, bob = "__proto__", uniq("bob")
    room, elsewhere = uniq("__proto__"), uniq("constructor")
    ui.sign_up(a, alice)
    ui.sign_up(b, bob)
    ui.join(a, room)
    ui.join(b, room)

    # Names where names show: Members, system lines, sidebar, heading, typing line.
    for page in (a, b):
        expect(ui.member_row(page, alice)).to_contain_text("admin")
        expect(ui.member_row(page, bob)).to_have_count(1)
        expect(page.get_by_test_id("system-line").filter(has_text=f"{alice} joined")).to_have_text(
            f"{alice} joined"
        )
        expect(ui.sidebar_entry(page, room)).to_have_text(f"# {room}")
    ui.composer(a).press_sequentially("hm", delay=30)
    expect(b.get_by_test_id("typing-line")).to_have_text(f"{alice} is typing", timeout=3_000)

    # Bodies, live on both sides.
    for body in HOSTILE_BODIES:
        ui.send(a, body, shown=shown(body))
    for page in (a, b):
        for body in HOSTILE_BODIES:
            ui.expect_message(page, shown(body))
        assert foreign_markup(page) == []
        assert body_texts(page) == [shown(body) for body in HOSTILE_BODIES]
    assert_nothing_ran(a, b)

    # Another room open and the tab hidden: a toast and a browser notification each.
    again = [f"again: {body}" for body in HOSTILE_BODIES]
    ui.join(b, elsewhere)
    b.evaluate("() => { window.__hideTab = true; window.__notes = []; }")
    for body in again:
        ui.send(a, body, shown=shown(body))
    expect(ui.sidebar_entry(b, room).get_by_test_id("unread-badge")).to_have_text(
        str(len(again)), timeout=5_000
    )
    expect(b.get_by_text(f"New message in {room}", exact=True).first).to_be_visible()
    # Unread news is coalesced (at most one delivery per tab every 2 s), so a
    # burst yields one or a few notifications, the last naming the newest.
    expected = [{"title": f"New message in {room}", "body": f"{alice}: {body}"} for body in again]
    b.wait_for_function("() => window.__notes.length > 0", timeout=5_000)
    b.wait_for_timeout(2_500)  # the last coalesced delivery
    notes = b.evaluate("() => window.__notes")
    assert notes and all(note in expected for note in notes), notes
    assert notes[-1] == expected[-1], notes
    assert_nothing_ran(a, b)

    # Stored: the receiver opens the room from the sidebar (newest page of 10), then reloads.
    b.evaluate("() => { window.__hideTab = false; }")
    ui.sidebar_entry(b, room).click()
    for _ in range(2):
        expect(b.get_by_test_id("room-heading")).to_have_text(room)
        expect(ui.message_bodies(b)).to_have_count(10)
        assert body_texts(b) == [shown(body) for body in [HOSTILE_BODIES[-1], *again]]
        assert foreign_markup(b) == []
        assert_nothing_ran(b)
        b.reload()


# Markdown that tries to become markup or a script link: (text, a piece of
# its rendered text that finds the message, what must be there). Every payload
# would set window.__xss (or alert) if it ever ran. ``LITERAL``: the body reads
# exactly the text typed; a number: that many links, none with an href.
ATTACK = "window.__xss=1;alert(1)"
LITERAL = "literal"
MARKDOWN_ATTACKS: list[tuple[str, str, str | int | None]] = [
    (f"raw <script>{ATTACK}</script> html", "raw <script>", LITERAL),
    (f'raw <img src=x onerror="{ATTACK}"> img', "raw <img", LITERAL),
    (f'raw <svg onload="{ATTACK}"></svg> svg', "raw <svg", LITERAL),
    (f'<iframe src="javascript:{ATTACK}"></iframe>', "<iframe", LITERAL),
    (f'raw <a href="javascript:{ATTACK}">anchor</a>', "raw <a href", LITERAL),
    (f'<details open ontoggle="{ATTACK}">details</details>', "<details", LITERAL),
    (f"<math><mtext><table><mglyph><style><img src=x onerror={ATTACK}>", "<math>", LITERAL),
    (f"[plain js](javascript:{ATTACK})", "plain js", 1),
    (f"[mixed case](JaVaScRiPt:{ATTACK})", "mixed case", 1),
    (f"[padded](  javascript:{ATTACK})", "padded", 1),
    (f"[bracketed](<javascript:{ATTACK}>)", "bracketed", 1),
    (f"[numeric ref](&#106;avascript:{ATTACK})", "numeric ref", 1),
    (f"[named ref](javascript&colon;{ATTACK})", "named ref", 1),
    (
        "[data url](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3M9MTwvc2NyaXB0Pg==)",
        "data url",
        1,
    ),
    ("[vb](vbscript:msgbox(1))", "vb", 1),
    (f"autolink <javascript:{ATTACK}>", "autolink", 1),
    (f"[reference][evil] link\n\n[evil]: javascript:{ATTACK}", "reference link", 1),
    (f'[titled](javascript:{ATTACK} "title")', "titled", 1),
    ("[relative](/rooms/general) and [protocol-relative](//evil.example/x)", "relative and", 2),
    (f'**<img src=x onerror="{ATTACK}">** bold', "> bold", None),
    (f"`[in code](javascript:{ATTACK})` code", "[in code]", 0),
    (f"[`code` label](javascript:{ATTACK})", "code label", 1),
    (f"![image](javascript:{ATTACK}) alt", "image alt", 0),
    (f"[![pic](https://pixel.example/p.png)](javascript:{ATTACK})", "pic", 1),
]


def test_hostile_markdown_never_becomes_markup_or_a_script_link(new_page, uniq):
    """Raw HTML stays text; every link leads to http(s)/mailto or has no href at all."""
    a, b = open_page(new_page), open_page(new_page)
    room = uniq("mdxss")
    ui.sign_up(a, uniq("mallory"))
    ui.sign_up(b, uniq("victim"))
    ui.join(a, room)
    ui.join(b, room)
    for n, (text, find, want) in enumerate(MARKDOWN_ATTACKS):
        sender = (a, b)[n % 2]  # two senders: each stays under the send rate limit
        ui.send(sender, text, shown=find)
        for page in (a, b):
            ui.expect_message(page, find)
            assert foreign_markup(page) == [], text
            assert all(h is None or re.match(r"^(https?:|mailto:)", h) for h in link_hrefs(page))
            found = ui.message_body(page, find)
            if want == LITERAL:
                expect(found).to_have_text(text)
            elif isinstance(want, int):
                # The link is kept as a link (its text stays), with no href: not "#", not "".
                expect(found.locator("a")).to_have_count(want)
                hrefs = found.locator("a").evaluate_all(
                    "(l) => l.map((a) => a.getAttribute('href'))"
                )
                assert hrefs == [None] * want, (text, hrefs)
    assert_nothing_ran(a, b)

    # Safe links keep their href; a bare address becomes a mailto: link.
    ui.send(a, "[ok](https://example.com/ok) and mail@example.com", shown="ok and mail@")
    safe = ui.message_body(b, "ok and mail@").locator("a")
    expect(safe).to_have_count(2)
    assert safe.evaluate_all("(l) => l.map((a) => a.getAttribute('href'))") == [
        "https://example.com/ok",
        "mailto:mail@example.com",
    ]
    # A click on a link without an href goes nowhere and runs nothing.
    ui.message_body(b, "pic").locator("a").click()
    expect(b.get_by_test_id("room-heading")).to_have_text(room)
    assert len(b.context.pages) == 1
    assert_nothing_ran(a, b)
