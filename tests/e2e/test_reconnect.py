"""A tab whose server goes away says so, then recovers by itself when it returns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import ui
from tests.e2e.conftest import SERVER_ENV
from tests.support import appserver

pytestmark = pytest.mark.e2e


class Restartable:
    """One app process that the test can crash and start again on the same port."""

    def __init__(self, tmp: Path) -> None:
        self.port = appserver.free_port()
        self.web_dir = appserver.build_frontend(self.port)
        self.db_url = f"sqlite:///{tmp / 'blabber.db'}"
        appserver.migrate(self.db_url)
        self.server = self.start()

    def start(self) -> appserver.AppServer:
        return appserver.start_server(
            self.web_dir,
            port=self.port,
            database_url=self.db_url,
            extra_env=SERVER_ENV,
            name="reconnect",
        )


@pytest.fixture(scope="module")
def restartable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restartable]:
    app = Restartable(tmp_path_factory.mktemp("reconnect"))
    yield app
    app.server.stop()


@pytest.fixture(scope="module")
def app_url(restartable: Restartable) -> str:
    """This module's pages talk to the restartable server, not the shared one."""
    return f"http://localhost:{restartable.port}"


def test_server_crash_shows_reconnecting_then_live_again(new_page, uniq, restartable):
    a, b = new_page(), new_page()
    room = uniq("flaky")
    ui.sign_up(a, uniq("alice"))
    ui.sign_up(b, uniq("bob"))
    ui.join(a, room)
    ui.join(b, room)
    ui.send(a, "before the crash")
    ui.expect_message(b, "before the crash")
    expect(a.get_by_test_id("reconnecting")).to_have_count(0)

    restartable.server.kill()
    for page in (a, b):
        expect(page.get_by_text("Reconnecting…")).to_be_visible()

    restartable.server = restartable.start()
    for page in (a, b):
        expect(page.get_by_test_id("reconnecting")).to_have_count(0, timeout=30_000)
        # Same room, same history, still signed in: rebuilt from storage and the DB.
        ui.expect_message(page, "before the crash")

    # The restarted worker knows nothing of these tabs until they re-register;
    # live delivery proves they did.
    ui.send(b, "after the restart")
    ui.expect_message(a, "after the restart", timeout=5_000)
