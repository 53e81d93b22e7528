"""Where deploy/entrypoint.sh listens unless told (issue 12: `make run` on 0.0.0.0).

`make run` serves with the public development secret; on 0.0.0.0 anyone on
the LAN could reach it. The entrypoint therefore binds 127.0.0.1 unless
``BIND_HOST`` says otherwise (the Dockerfile sets 0.0.0.0, test_compose.py),
and `make run` passes ``HOST`` through as ``BIND_HOST``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.deploy.conftest import placeholder_build
from tests.support import appserver

ENTRYPOINT = appserver.PROJECT_ROOT / "deploy" / "entrypoint.sh"


def _listening(pid: int) -> set[str]:
    """Addresses the process tree rooted at ``pid`` listens on (TCP)."""
    root = psutil.Process(pid)
    found: set[str] = set()
    for proc in (root, *root.children(recursive=True)):
        with contextlib.suppress(psutil.Error):
            found |= {
                c.laddr.ip for c in proc.net_connections("tcp") if c.status == psutil.CONN_LISTEN
            }
    return found


@pytest.mark.slow
def test_entrypoint_listens_on_loopback_by_default(tmp_path: Path) -> None:
    web = placeholder_build(tmp_path)
    database = f"sqlite:///{tmp_path / 'blabber.db'}"
    appserver.migrate(database)
    port = appserver.free_port()
    env = appserver.base_env(
        {
            "REFLEX_WEB_WORKDIR": str(web),
            "REFLEX_DB_URL": database,
            "WORKERS": "1",
            "BIND_PORT": str(port),
            "PYTHON": sys.executable,
            "SKIP_MIGRATIONS": "1",
        }
    )
    env.pop("BIND_HOST", None)
    env.pop("HOST", None)
    log = tmp_path / "entrypoint.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(ENTRYPOINT)],
            cwd=appserver.PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        assert appserver.wait_healthy(proc, url, timeout=90), log.read_text()[-3000:]
        assert _listening(proc.pid) == {"127.0.0.1"}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def _make_run(*args: str) -> str:
    """The commands `make run` would execute (``make -n``: nothing runs)."""
    env = {k: v for k, v in os.environ.items() if k not in ("HOST", "BIND_HOST", "PORT")}
    proc = subprocess.run(
        ["make", "-n", "run", *args],
        cwd=appserver.PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (line,) = [ln for ln in proc.stdout.splitlines() if "deploy/entrypoint.sh" in ln]
    return line


def test_make_run_binds_loopback_unless_host_is_given() -> None:
    assert "BIND_HOST=127.0.0.1 " in _make_run()
    assert "BIND_HOST=0.0.0.0 " in _make_run("HOST=0.0.0.0")
