"""What a person sees in Chromium while PostgreSQL or Redis is down, and after.

The protocol-level outage tests (``test_postgres_outage.py``,
``test_redis_outage.py``) check what the server sends; these check that the
page turns it into something a user can act on: the composer keeps the draft
and says why, the degraded banner comes and goes by itself.

One production frontend is built for one port (the port is baked into the
bundle); each test starts its own server on that port over its own private
PostgreSQL/Redis, and stops it before the next test starts. Sync Playwright
fixtures are module-scoped (a session-scoped one would keep an event loop
running on the main thread and break the asyncio tests that follow).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis as redis_client
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e import ui
from tests.reliability.conftest import APP_ENV, assert_no_leak, health, stored_messages
from tests.support import appserver
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
SEND_ERROR = "Could not send right now; your message is kept, try again"
DEGRADED = re.compile(r"^Live updates are interrupted")


@pytest.fixture(scope="module")
def built() -> tuple[int, Path]:
    """(port, web dir) of a production build for ``http://localhost:<port>``."""
    port = appserver.free_port()
    return port, appserver.build_frontend(port)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """The system Chromium, for this module only."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        expect.set_options(timeout=ui.TIMEOUT_MS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser, built: tuple[int, Path]) -> Iterator[Callable[[], Page]]:
    """Factory: a page in a new browser context (a separate person) on the built app."""
    contexts = []

    def make() -> Page:
        # localhost, not 127.0.0.1: the bundle's websocket URL names localhost.
        context = browser.new_context(base_url=f"http://localhost:{built[0]}")
        context.set_default_timeout(ui.TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def wait_health(server: appserver.AppServer, status: int, timeout: float = 20.0) -> dict:
    """Poll /healthz until it answers ``status``; returns the body or fails."""
    deadline = time.monotonic() + timeout
    last: tuple[int, dict] = (0, {})
    while time.monotonic() < deadline:
        last = health(server.url)
        if last[0] == status:
            return last[1]
        time.sleep(0.2)
    raise AssertionError(f"/healthz never answered {status}; last: {last}")


def no_trace_shown(page: Page) -> None:
    """The page shows no stack trace or exception text."""
    assert_no_leak([page.inner_text("body")])


@pytest.mark.timeout(75)
def test_send_while_postgres_is_down_keeps_the_draft_then_retry_posts_once(
    postgres, built, new_page
):
    """PostgreSQL stops: Enter shows the send error and keeps the text; Send after it is
    back posts the message exactly once."""
    port, web_dir = built
    server = appserver.start_server(
        web_dir, port=port, database_url=postgres.url, extra_env=APP_ENV, name="outage-ui-pg"
    )
    try:
        page = new_page()
        ui.sign_up(page, "alice")
        ui.join(page, "ops")
        ui.send(page, "before the outage")

        postgres.stop("fast")
        wait_health(server, 503)
        draft = "sent while the database is down"
        box = ui.composer(page)
        box.fill(draft)
        box.press("Enter")
        expect(page.get_by_test_id("composer-error")).to_have_text(SEND_ERROR, timeout=15_000)
        expect(box).to_have_value(draft)
        expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()
        expect(ui.message_bodies(page).filter(has_text=draft)).to_have_count(0)
        no_trace_shown(page)

        postgres.start()
        wait_health(server, 200)
        page.get_by_role("button", name="Send", exact=True).click()
        ui.expect_message(page, draft)
        expect(box).to_have_value("")
        expect(page.get_by_test_id("composer-error")).to_have_count(0)
        page.wait_for_timeout(500)  # a duplicate would arrive by now
        expect(ui.message_bodies(page)).to_have_text(["before the outage", draft])
        assert [body for _, body in stored_messages(postgres.url)] == ["before the outage", draft]
    finally:
        server.stop()


@pytest.mark.timeout(90)
def test_redis_outage_shows_degraded_banner_that_clears_by_itself(
    postgres, redis_server, built, new_page
):
    """Redis dies under two workers: both tabs show the degraded banner within seconds;
    Redis returns: the banner goes away without a reload and messages flow live again."""
    port, web_dir = built
    server = appserver.start_server(
        web_dir,
        port=port,
        database_url=postgres.url,
        redis_url=redis_server.url,  # broker + Reflex state manager, oplock on
        workers=2,
        extra_env=APP_ENV,
        name="outage-ui-redis",
    )
    try:
        a, b = new_page(), new_page()
        ui.sign_up(a, "alice")
        ui.sign_up(b, "bob")
        ui.join(a, "ops")
        ui.join(b, "ops")
        ui.send(a, "before the outage")
        ui.expect_message(b, "before the outage")
        for page in (a, b):
            expect(page.get_by_test_id("degraded-banner")).to_have_count(0)

        redis_server.stop()
        lost = time.monotonic()
        for page in (a, b):
            expect(page.get_by_test_id("degraded-banner")).to_have_text(DEGRADED, timeout=10_000)
        assert time.monotonic() - lost < 10
        for page in (a, b):
            no_trace_shown(page)

        redis_server.start()
        back = time.monotonic()
        for page in (a, b):
            expect(page.get_by_test_id("degraded-banner")).to_have_count(0, timeout=15_000)
        assert time.monotonic() - back < 15
        wait_health(server, 200)

        ui.send(b, "after the outage")
        ui.expect_message(a, "after the outage", timeout=5_000)
        for page in (a, b):
            expect(page.get_by_test_id("room-heading")).to_have_text("ops")
            no_trace_shown(page)
    finally:
        server.stop()
        print(server.log_tail())  # pytest shows it when the test failed


@pytest.mark.timeout(75)
def test_a_send_that_finds_the_tab_state_lost_is_posted_once_after_the_tab_resumes(
    postgres, redis_server, built, new_page
):
    """Redis loses every tab's server state (FLUSHALL; a restart without persistence
    does the same): Enter still posts the draft, exactly once, with no second Enter."""
    port, web_dir = built
    server = appserver.start_server(
        web_dir,
        port=port,
        database_url=postgres.url,
        redis_url=redis_server.url,
        extra_env=APP_ENV,
        name="outage-ui-flush",
    )
    try:
        page = new_page()
        ui.sign_up(page, "alice")
        ui.join(page, "ops")
        ui.send(page, "before the flush")

        # The worker holds each tab's state under an opportunistic lock and
        # writes it to Redis only when another instance asks for the lock: ask,
        # so the state is in Redis alone, then lose it.
        store = redis_client.Redis.from_url(redis_server.url)
        locks = list(store.scan_iter(match="*_lock"))
        assert locks, "the tab's state lock should be held in Redis"
        for lock in locks:
            store.sadd(lock + b"_waiters", b"a-test-instance")
        page.wait_for_timeout(1_000)  # the worker flushes and lets the lease go
        store.flushall()
        ui.send(page, "after the flush")
        expect(ui.composer(page)).to_have_value("")
        page.wait_for_timeout(500)  # a duplicate would arrive by now
        expect(ui.message_bodies(page)).to_have_text(["before the flush", "after the flush"])
        assert [body for _, body in stored_messages(postgres.url)] == [
            "before the flush",
            "after the flush",
        ]
        no_trace_shown(page)
    finally:
        server.stop()
