"""Browser tests: one production build and one server per session, real Chromium.

The frontend is built once for a free port (the port is baked into the
bundle's websocket URL) and served by a single Uvicorn worker on a fresh
SQLite file. Every test opens its own browser contexts (one per simulated
person) and uses fresh usernames and room names, so tests do not depend on
each other or on order. A failing test leaves a screenshot of every page it
opened in ``test-artifacts/e2e-<test>-<n>.png``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from blabber import db, storage
from blabber.settings import Settings
from tests.e2e.ui import TIMEOUT_MS
from tests.support import appserver
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, watch_csp

# The server runs with production defaults except cheap bcrypt (each sign-up
# costs ~250 ms at cost 12 on a small CI box): what the tests pass is what ships.
SERVER_ENV = {"BLABBER_BCRYPT_ROUNDS": "4"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Remember each phase's report on the item so fixtures can see a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The browser tests' SQLite database (tests seed long histories into it directly)."""
    db_path: Path = tmp_path_factory.mktemp("e2e") / "blabber.db"
    url = f"sqlite:///{db_path}"
    appserver.migrate(url)
    return url


@pytest.fixture(scope="session")
def app_url(e2e_database_url: str) -> Iterator[str]:
    """Base URL of a running Blabber (production build, fresh SQLite database).

    Uploads go where they ship (``file://data/uploads``); afterwards the
    files this session's database names are removed from there.
    """
    port = appserver.free_port()
    web_dir = appserver.build_frontend(port)
    url = e2e_database_url
    server = appserver.start_server(
        web_dir, port=port, database_url=url, extra_env=SERVER_ENV, name="e2e"
    )
    try:
        # localhost, not 127.0.0.1: the bundle's websocket URL names localhost.
        yield f"http://localhost:{port}"
    finally:
        server.stop()
        _remove_stored_files(url)


def _remove_stored_files(database_url: str) -> None:
    """Delete, from the shipped store, the files and pictures ``database_url`` refers to.

    By key, not by sweeping the folder: another test process may be using it.
    """
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT storage_key, thumb_key FROM attachments"
                    " UNION ALL SELECT avatar_key, NULL FROM users"
                )
            ).all()
    finally:
        engine.dispose()
    store = storage.storage_from_url(Settings().storage_url, project_root=appserver.PROJECT_ROOT)
    for key in {k for row in rows for k in row if k}:
        store.delete(key)


# Module scope, not session: sync Playwright keeps an event loop running on the
# main thread, which would break the asyncio tests that run after this folder.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver for the session."""
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """The system Chromium (never a downloaded one)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    expect.set_options(timeout=TIMEOUT_MS)
    yield browser
    browser.close()


@pytest.fixture
def new_page(
    browser: Browser, app_url: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """Factory: a page in a new browser context (a separate person), closed after the test.

    Each page records JavaScript dialogs and page errors in ``page.dialogs``
    / ``page.js_errors`` so tests can assert that user text never ran as code,
    and any Content-Security-Policy violation fails the test at teardown.
    """
    contexts = []
    watched: list[list[str]] = []  # each context's CSP violations

    def make(**context_options) -> Page:
        context = browser.new_context(base_url=app_url, **context_options)
        context.set_default_timeout(TIMEOUT_MS)
        watched.append(watch_csp(context))
        page = context.new_page()
        page.dialogs = []  # type: ignore[attr-defined]
        page.js_errors = []  # type: ignore[attr-defined]

        def on_dialog(dialog) -> None:
            page.dialogs.append(dialog.message)  # type: ignore[attr-defined]
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))  # type: ignore[attr-defined]
        contexts.append(context)
        return page

    yield make

    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        appserver.ARTIFACTS.mkdir(exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        for i, context in enumerate(contexts):
            for j, page in enumerate(context.pages):
                try:
                    page.screenshot(
                        path=str(appserver.ARTIFACTS / f"e2e-{safe}-{i}{j}.png"), full_page=True
                    )
                except Exception:  # a closed page cannot be captured; that is fine
                    pass
    for context in contexts:
        try:
            context.close()
        except Exception:  # already closed by the test (presence test does this)
            pass
    # The pages run under the app's Content-Security-Policy: anything it blocked
    # is a broken feature (or an injection), so it fails the test.
    violations = [text for found in watched for text in found]
    assert violations == [], f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def uniq() -> Callable[[str], str]:
    """Fresh names per test: ``uniq("alice")`` -> ``alice-3f9a1c``."""
    tag = uuid.uuid4().hex[:6]
    return lambda prefix: f"{prefix}-{tag}"
