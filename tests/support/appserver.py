"""Start real Blabber server processes for browser, proxy and multi-worker tests.

The production frontend is built once per public port (the port is baked
into the bundle's websocket URL) into its own web directory, then any number
of backend processes serve it through ``deploy/entrypoint.sh`` (Uvicorn), as
the container does, without rebuilding for each process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import psutil

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every server/tool process of the tests gets."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REFLEX_", "BLABBER_", "UVICORN_", "__REFLEX"))
        and k not in ("DATABASE_URL", "REDIS_URL", "PORT")
    }
    env.update(
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        PYTHONUNBUFFERED="1",
        PATH=f"{VENV_BIN}:{env.get('PATH', '')}",
    )
    env.update(extra or {})
    return env


def build_frontend(public_port: int) -> Path:
    """Build the production frontend for ``http://localhost:<public_port>``; returns its web dir."""
    web_dir = ARTIFACTS / f"web-{public_port}"
    url = f"http://localhost:{public_port}"
    env = base_env(
        {
            "REFLEX_WEB_WORKDIR": str(web_dir),
            "REFLEX_API_URL": url,
            "REFLEX_DEPLOY_URL": url,
            "PORT": str(public_port),
        }
    )
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"build-{public_port}.log"
    with log.open("w") as out:
        proc = subprocess.run(
            [str(VENV_BIN / "reflex"), "export", "--frontend-only", "--no-zip", "--env", "prod"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=600,
            check=False,
        )
    if proc.returncode != 0 or not (web_dir / "build" / "client" / "index.html").exists():
        raise RuntimeError(f"frontend build failed; see {log}:\n{log.read_text()[-3000:]}")
    return web_dir


def wait_healthy(proc: subprocess.Popen, url: str, timeout: float) -> bool:
    """Poll ``url`` until it answers 200 (True), ``proc`` exits or time runs out (False).

    Shared by every test and bench process launcher (app, nginx, floor server).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return True
        time.sleep(0.2)
    return False


@dataclasses.dataclass
class AppServer:
    """A running backend process (Uvicorn, N workers) serving the built frontend."""

    port: int
    proc: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Return once /healthz answers; raise with the log tail if it never does."""
        if not wait_healthy(self.proc, f"{self.url}/healthz", timeout):
            state = "exited" if self.proc.poll() is not None else "not ready"
            raise RuntimeError(f"server {state}; log:\n{self.log_path.read_text()[-3000:]}")

    def worker_processes(self) -> list[psutil.Process]:
        """The worker processes serving requests (Uvicorn's children).

        Excludes multiprocessing's resource tracker, which Uvicorn's spawn-based
        supervisor also starts as a child.
        """

        def is_worker(proc: psutil.Process) -> bool:
            with contextlib.suppress(psutil.Error):
                return "resource_tracker" not in " ".join(proc.cmdline())
            return False

        return [p for p in psutil.Process(self.proc.pid).children() if is_worker(p)]

    def stop(self) -> None:
        """Graceful stop (SIGTERM to the whole process group)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 60) -> str:
        """The end of the server's log without access lines, for a failing test's report."""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join([line for line in text if not line.startswith("INFO:     127.")][-lines:])

    def kill(self) -> None:
        """Crash it: SIGKILL to the whole process group (no cleanup runs)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=15)


def start_server(
    web_dir: Path,
    *,
    port: int,
    database_url: str,
    redis_url: str | None = None,
    workers: int = 1,
    public_port: int | None = None,
    extra_env: Mapping[str, str] | None = None,
    name: str = "app",
) -> AppServer:
    """Start a backend on ``port`` serving ``web_dir``'s build; returns when healthy."""
    public = public_port or port
    env = base_env(
        {
            "REFLEX_WEB_WORKDIR": str(web_dir),
            "REFLEX_ENV_MODE": "prod",
            "__REFLEX_MOUNT_FRONTEND_COMPILED_APP": "true",
            "__REFLEX_SKIP_COMPILE": "true",
            "REFLEX_DB_URL": database_url,
            "WORKERS": str(workers),
            "BIND_HOST": "127.0.0.1",
            "BIND_PORT": str(port),
            "PYTHON": sys.executable,
            "SKIP_MIGRATIONS": "1",
            "PORT": str(public),
            "BLABBER_ALLOWED_ORIGINS": f"http://localhost:{public},http://127.0.0.1:{public}",
            # Every test client connects from 127.0.0.1: lift the per-address
            # limits (tests/security/test_rate_limits.py sets its own).
            "BLABBER_SIGNUP_ADDRESS_MAX": "100000",
            "BLABBER_LOGIN_ADDRESS_MAX_FAILURES": "100000",
            # With Redis, run as production does (docker-compose.yml): oplock on.
            **({"REFLEX_REDIS_URL": redis_url, "REFLEX_OPLOCK_ENABLED": "1"} if redis_url else {}),
            **(extra_env or {}),
        }
    )
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"{name}-{port}.log"
    out = log_path.open("w")
    # The production entrypoint itself, so tests run the server command that
    # ships (migrations are the caller's job here).
    proc = subprocess.Popen(
        [str(PROJECT_ROOT / "deploy" / "entrypoint.sh")],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = AppServer(port=port, proc=proc, log_path=log_path)
    try:
        server.wait_ready()
    except BaseException:
        server.kill()
        raise
    return server


def migrate(database_url: str) -> None:
    """Apply migrations to ``database_url`` in a subprocess (as ``make run`` does)."""
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=PROJECT_ROOT,
        env=base_env({"REFLEX_DB_URL": database_url}),
        check=True,
        timeout=120,
    )
