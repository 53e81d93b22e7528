"""Private PostgreSQL and Redis servers that a test may stop, kill and restart.

Fault tests must never touch the machine's shared services (other suites and
engineers use 127.0.0.1:5432 and :6379), so each one gets its own throwaway
instance on a free port, in a temporary directory removed afterwards. Every
step has a bounded timeout, and the context managers stop the server even
when the test fails.

PostgreSQL refuses to run as root: when the tests run as root, ``initdb`` and
``pg_ctl`` run as the ``postgres`` system user (``runuser -u postgres``) on a
directory owned by that user.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.appserver import free_port

TIMEOUT = 30  # seconds for any start/stop step


def postgres_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb``, if any."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name.split(".")[0]),
    )
    return Path(found[-1]).parent if found else None


def redis_binary() -> str | None:
    """``redis-server`` on PATH (or Debian's location), if installed."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


def missing_binaries() -> list[str]:
    """Names of the server binaries these helpers need but cannot find."""
    missing = [] if postgres_bin_dir() else ["PostgreSQL (initdb/pg_ctl)"]
    return missing + ([] if redis_binary() else ["redis-server"])


def wait_port(port: int, *, up: bool, timeout: float = TIMEOUT) -> None:
    """Wait until 127.0.0.1:``port`` accepts (``up``) or refuses connections."""
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            is_up = s.connect_ex(("127.0.0.1", port)) == 0
        if is_up == up:
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} still {'closed' if up else 'open'} after {timeout}s")


@dataclasses.dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of our own: trust auth, 127.0.0.1 only, no fsync."""

    bin_dir: Path
    data_dir: Path
    port: int
    run_as: str | None  # system user for the server when we are root

    @property
    def url(self) -> str:
        """URL of the ``postgres`` database as the ``postgres`` superuser."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=TIMEOUT + 10, check=False
        )
        if proc.returncode != 0:
            log = self.data_dir.parent / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {proc.stderr or proc.stdout}\n{tail}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.data_dir.parent} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            str(TIMEOUT),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.data_dir.parent / "server.log"),
            "-o",
            options,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: disconnect clients, roll back, shut down cleanly)."""
        self._run("pg_ctl", "stop", "-w", "-t", str(TIMEOUT), "-m", mode, "-D", str(self.data_dir))
        wait_port(self.port, up=False)

    def running(self) -> bool:
        """Whether the postmaster is up (its pid file exists)."""
        return (self.data_dir / "postmaster.pid").exists()


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """initdb a throwaway cluster, start it, yield it; always stop it and delete its files."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
    run_as = "postgres" if os.geteuid() == 0 else None
    # Not pytest's tmp_path: its parents are private to root, and the server
    # runs as another user. /tmp is traversable; this directory is theirs.
    root = Path(tempfile.mkdtemp(prefix="blabber-pg-"))
    if run_as:
        user = pwd.getpwnam(run_as)
        os.chown(root, user.pw_uid, user.pw_gid)
    server = PrivatePostgres(bin_dir, root / "data", free_port(), run_as)
    try:
        server._run(
            "initdb", "-D", str(server.data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8"
        )
        with (server.data_dir / "postgresql.conf").open("a") as conf:
            # A test database: durability across power loss is not the point.
            conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
        server.start()
        yield server
    finally:
        if server.running():
            with contextlib.suppress(Exception):
                server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@dataclasses.dataclass
class PrivateRedis:
    """A ``redis-server`` of our own, without persistence (like docker-compose's)."""

    binary: str
    port: int
    log_path: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart, on the same port) and wait until it accepts connections."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.log_path.parent)]
        args += ["--save", "", "--appendonly"]
        with self.log_path.open("a") as log:
            self.proc = subprocess.Popen(
                [self.binary, *args, "no", "--daemonize", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_port(self.port, up=True)

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Stop it: SIGKILL (default) is a crash, every connection drops at once."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=TIMEOUT)
        wait_port(self.port, up=False)


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """Start a throwaway Redis on a free port; always stop it."""
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("redis-server not found")
    root = Path(tempfile.mkdtemp(prefix="blabber-redis-"))
    server = PrivateRedis(binary, free_port(), root / "redis.log")
    try:
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
