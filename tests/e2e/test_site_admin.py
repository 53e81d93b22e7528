"""The site admin in Chromium, on a fresh install that signs people up by invite only.

This module runs its own server (``BLABBER_SIGNUP=invite``, as docker-compose
ships, on a fresh database, so its first account is the install's first)
with its own production build: the shared e2e server is an ``open`` install
that earlier tests filled with accounts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import ui
from tests.support import appserver, axe
from tests.support.browser import watch_csp

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def shipped_compose_signup() -> str:
    """The sign-up mode docker-compose.yml ships (``${BLABBER_SIGNUP:-<default>}``).

    Read from the file, not restated, so this module tests the setting as
    shipped for a hosted team; every other browser test runs ``make run``'s
    default, ``open``.
    """
    compose = (appserver.PROJECT_ROOT / "docker-compose.yml").read_text()
    found = re.search(r"BLABBER_SIGNUP: \$\{BLABBER_SIGNUP:-(\w+)\}", compose)
    assert found, "docker-compose.yml no longer sets BLABBER_SIGNUP"
    return found.group(1)


SHIPPED_SIGNUP = shipped_compose_signup()
assert SHIPPED_SIGNUP == "invite", "this module tests the invite-only install"
INVITE_ONLY = {"BLABBER_BCRYPT_ROUNDS": "4", "BLABBER_SIGNUP": SHIPPED_SIGNUP}


@pytest.fixture(scope="module")
def invite_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of an invite-only install with an empty database."""
    port = appserver.free_port()
    web_dir = appserver.build_frontend(port)
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('invite')) / 'blabber.db'}"
    appserver.migrate(url)
    server = appserver.start_server(
        web_dir, port=port, database_url=url, extra_env=INVITE_ONLY, name="invite-site"
    )
    try:
        yield f"http://localhost:{port}"
    finally:
        server.stop()


@pytest.fixture
def person(browser: Browser, invite_site: str) -> Iterator[Callable[[], Page]]:
    """Factory: a new person's page on the invite-only install (CSP violations fail)."""
    contexts, watched = [], []

    def make() -> Page:
        context = browser.new_context(base_url=invite_site)
        context.set_default_timeout(ui.TIMEOUT_MS)
        contexts.append(context)
        watched.append(watch_csp(context))
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert [v for found in watched for v in found] == []


def fill_sign_up(page: Page, username: str) -> None:
    page.get_by_placeholder("Username").fill(username)
    page.get_by_placeholder("Password").fill(ui.PASSWORD)
    page.get_by_role("button", name="Sign up").click()


def test_the_first_account_invites_the_team_and_can_deactivate_a_member(person, uniq):
    founder, walk_in, newbie = person(), person(), person()
    founder_name = uniq("founder")
    ui.sign_up(founder, founder_name)  # the install's first account: always allowed
    founder.get_by_role("link", name="Admin").click()
    expect(founder.get_by_role("heading", name="Admin")).to_be_visible()

    founder.get_by_role("spinbutton").fill("2")
    founder.get_by_role("button", name="Create invite link").click()
    link = founder.get_by_test_id("invite-link")
    expect(link).to_have_text(re.compile(r"/signup\?invite=[\w-]+$"))
    expect(founder.get_by_role("img", name="QR code of the invite link")).to_be_visible()
    invite = link.inner_text()
    for mode in ("light", "dark"):  # the page passes axe in both modes
        founder.emulate_media(color_scheme=mode)
        expect(founder.locator("html")).to_have_class(re.compile(rf"\b{mode}\b"))
        axe.assert_accessible(founder, f"/admin with a new invite link ({mode} mode)")

    walk_in.goto("/signup")  # no invite: refused, and told how to get in
    fill_sign_up(walk_in, uniq("walkin"))
    expect(
        walk_in.get_by_text("Sign-up is by invite only: ask a site admin for an invite link")
    ).to_be_visible()
    expect(walk_in).to_have_url(re.compile(r"/signup/?$"))

    newbie_name = uniq("newbie")
    newbie.goto(invite)
    fill_sign_up(newbie, newbie_name)
    expect(newbie.get_by_test_id("current-username")).to_have_text(newbie_name)
    expect(newbie.get_by_role("link", name="Admin")).to_have_count(0)  # not a site admin

    founder.reload()
    expect(founder.get_by_test_id("invite-row").first).to_contain_text("used 1 of 2")
    founder.get_by_placeholder("Filter people").fill(newbie_name)
    row = founder.get_by_test_id("person-row").filter(has_text=newbie_name)
    row.get_by_role("button", name=f"Deactivate {newbie_name}").click()
    expect(row).to_contain_text("deactivated")
    expect(newbie).to_have_url(re.compile(r"/login/?$"))  # logged out live
    newbie.get_by_placeholder("Username").fill(newbie_name)
    newbie.get_by_placeholder("Password").fill(ui.PASSWORD)
    newbie.get_by_role("button", name="Log in").click()
    expect(newbie.get_by_text("This account was deactivated by a site admin")).to_be_visible()

    walk_in.goto("/admin")  # not theirs: sent home, told why
    expect(walk_in).not_to_have_url(re.compile(r"/admin$"))
