"""Accounts in a real browser: sign up, stay signed in, log out, log in, form rules."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import ui

pytestmark = pytest.mark.e2e


def test_sign_up_reload_log_out_and_log_in_again(new_page, uniq):
    """The whole account cycle, including both refusal messages, in one tab."""
    page = new_page()
    name = uniq("alice")

    ui.sign_up(page, name)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.reload()
    expect(page.get_by_test_id("current-username")).to_have_text(name)
    expect(page).to_have_url(re.compile(r"/$"))

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    # Logged out means logged out: the app shell is not reachable any more.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/?$"))

    page.get_by_placeholder("Username").fill(name)
    page.get_by_placeholder("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Invalid username or password")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login/?$"))

    page.get_by_placeholder("Password").fill(ui.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("current-username")).to_have_text(name)
    expect(page).to_have_url(re.compile(r"/$"))

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    page.get_by_role("link", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/signup/?$"))
    page.get_by_placeholder("Username").fill(name.upper())  # names are case-insensitive
    page.get_by_placeholder("Password").fill(ui.PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("That username is taken")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/signup/?$"))
    page.get_by_role("link", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))


def test_anonymous_visitor_is_sent_to_login(new_page):
    """The shell and room pages are not shown to someone who is not signed in."""
    page = new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/?$"))
    expect(page.get_by_placeholder("Username")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)

    page.goto("/rooms/anything")
    expect(page).to_have_url(re.compile(r"/login/?$"))


def test_too_short_password_shows_the_rule(new_page, uniq):
    """Sign-up refuses a short password with the rule, and creates no account."""
    page = new_page()
    name = uniq("shorty")
    page.goto("/signup")
    page.get_by_placeholder("Username").fill(name)
    page.get_by_placeholder("Password").fill("short")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("Password must be at least 8 characters")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/signup/?$"))

    # No account was created: the same name can still sign up.
    page.get_by_placeholder("Password").fill(ui.PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_test_id("current-username")).to_have_text(name)


def test_login_form_is_usable_on_a_phone(new_page, uniq):
    """At 390x844 the log-in form fits the screen and works."""
    setup = new_page()
    name = uniq("phone")
    ui.sign_up(setup, name)

    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto("/login")
    for control in (
        page.get_by_placeholder("Username"),
        page.get_by_placeholder("Password"),
        page.get_by_role("button", name="Log in"),
    ):
        expect(control).to_be_in_viewport()
        box = control.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert box["height"] >= 30, "touch targets should be finger-sized"
    assert ui.horizontal_overflow(page) == 0

    page.get_by_placeholder("Username").tap()
    page.get_by_placeholder("Username").fill(name)
    page.get_by_placeholder("Password").fill(ui.PASSWORD)
    page.get_by_role("button", name="Log in").tap()
    expect(page.get_by_test_id("current-username")).to_have_text(name)
    assert ui.horizontal_overflow(page) == 0


def test_log_out_in_one_tab_logs_out_the_others(new_page, uniq):
    """Tabs share the session: logging out in one sends every tab to /login at once."""
    first = new_page()
    name = uniq("tabs")
    ui.sign_up(first, name)
    second = first.context.new_page()
    second.goto("/")
    expect(second.get_by_test_id("current-username")).to_have_text(name)

    second.get_by_role("button", name="Log out").click()
    expect(second).to_have_url(re.compile(r"/login/?$"))
    expect(first).to_have_url(re.compile(r"/login/?$"), timeout=5_000)
    expect(first.get_by_test_id("current-username")).to_have_count(0)


def test_the_session_is_an_http_only_cookie_no_script_can_read(new_page, uniq):
    """The token is in an HttpOnly, SameSite=Lax cookie: not in document.cookie, nor storage.

    A browser that still holds a token from before the cookie (localStorage)
    has it deleted on the next page load and logs in once.
    """
    page = new_page()
    page.goto("/login")
    page.evaluate("localStorage.setItem('blabber_session', 'a-token-from-before-cookies')")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/?$"))  # the old token does not sign in
    page.wait_for_function("localStorage.getItem('blabber_session') === null")

    name = uniq("cookie")
    ui.sign_up(page, name)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "blabber_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["secure"] is False  # plain http here; Secure behind TLS (endpoint tests)
    token = cookie["value"]
    assert len(token) >= 40
    readable = page.evaluate(
        "[document.cookie, JSON.stringify(localStorage), JSON.stringify(sessionStorage)]"
    )
    assert not [text for text in readable if token in text], readable
    assert "blabber_session" not in readable[0]

    # Log out clears the cookie (and the session: a copy of the token is dead).
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    assert not [c for c in page.context.cookies() if c["name"] == "blabber_session"]
    page.context.add_cookies([{**cookie, "expires": -1}])
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/?$"))
