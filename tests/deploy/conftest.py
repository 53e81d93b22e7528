"""Fixtures for deployment tests: scratch PostgreSQL databases, Redis, nginx, Chromium.

Every test here runs the project's real artefacts (deploy/entrypoint.sh,
deploy/nginx.conf, docker-compose.yml) natively: no Docker engine is needed.
Missing tools or services skip with a reason, or fail under
``BLABBER_REQUIRE_SERVICES=1`` (see ``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, PROJECT_ROOT, missing_service
from tests.support import appserver, pg
from tests.support.appserver import wait_healthy
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (not migrated), dropped afterwards."""
    if not PG_URL:
        missing_service("BLABBER_TEST_DATABASE_URL not set: PostgreSQL deploy tests skipped")
    name = f"blabber_deploy_{uuid.uuid4().hex[:8]}"
    try:
        url = pg.create_database(PG_URL, name)
    except sa.exc.OperationalError as exc:
        missing_service(f"PostgreSQL unreachable at BLABBER_TEST_DATABASE_URL: {exc}")
    try:
        yield url
    finally:
        pg.drop_database(PG_URL, name)


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A scratch PostgreSQL database for one test."""
    with scratch_database() as url:
        yield url


@pytest.fixture
def clean_redis(redis_url: str) -> str:
    """The test Redis DB, emptied first (Reflex state and pub/sub live there)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    return redis_url


PLACEHOLDER_ASSET = "/assets/app-test.js"


PLACEHOLDER_SCRIPT = "window.placeholder = 1;"  # an inline script, allowed by its hash


def placeholder_build(root: Path) -> Path:
    """A one-page frontend build under ``root / "web"`` (returned): ``index.html`` and one asset."""
    client_dir = root / "web" / "build" / "client"
    (client_dir / "assets").mkdir(parents=True)
    page = f"<!doctype html><title>t</title><script>{PLACEHOLDER_SCRIPT}</script>"
    (client_dir / "index.html").write_text(page)
    (client_dir / PLACEHOLDER_ASSET.lstrip("/")).write_text("console.log('hi');\n")
    return root / "web"


def placeholder_backend(
    root: Path,
    name: str,
    *,
    public_port: int | None = None,
    redis_url: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> appserver.AppServer:
    """A backend (the real entrypoint) on a fresh SQLite DB, serving a one-page placeholder build.

    For HTTP/websocket-level tests that need no browser, hence no frontend
    build: the build directory holds ``index.html`` and one static asset
    (:data:`PLACEHOLDER_ASSET`), served like the real bundle's files.
    """
    web = placeholder_build(root)
    url = f"sqlite:///{root / 'blabber.db'}"
    appserver.migrate(url)
    return appserver.start_server(
        web,
        port=appserver.free_port(),
        database_url=url,
        redis_url=redis_url,
        public_port=public_port,
        extra_env=extra_env,
        name=name,
    )


def render_nginx_conf(listen_port: int, log_dir: Path, tls: TLS | None = None) -> str:
    """deploy/nginx.conf with its container port and log directory swapped for the test's.

    With ``tls``, the file's commented-out HTTPS server block is switched on
    too, on ``tls.port`` with the test's certificate: the block an operator
    uncomments, tested as written.
    """
    source = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text()
    rendered = source.replace("    listen 80;", f"    listen 127.0.0.1:{listen_port};", 1)
    assert rendered != source, "deploy/nginx.conf no longer has `listen 80;`"
    if tls is not None:
        rendered += "\n" + _tls_block(source, tls)
    return rendered.replace("/var/log/nginx/", f"{log_dir}/")


@dataclasses.dataclass(frozen=True)
class TLS:
    """Where the HTTPS block listens, and its certificate and key files."""

    port: int
    cert: Path
    key: Path


def self_signed_tls(tmp: Path, port: int) -> TLS:
    """A throwaway certificate for localhost (openssl, from Debian)."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return TLS(port, cert, key)


def _tls_block(source: str, tls: TLS) -> str:
    """The commented ``server { listen 443 ssl; ... }`` block of nginx.conf, uncommented."""
    lines = source.splitlines()
    start = lines.index("# server {")
    end = lines.index("# }", start)
    block = "\n".join(
        line[2:] if line.startswith("# ") else line[1:] for line in lines[start : end + 1]
    )
    replaced = (
        block.replace("listen 443 ssl;", f"listen 127.0.0.1:{tls.port} ssl;")
        # The image's nginx (1.27) has ``http2 on``; Debian's 1.22 here predates it.
        .replace("    http2 on;\n", "")
        .replace("/etc/nginx/certs/fullchain.pem", str(tls.cert))
        .replace("/etc/nginx/certs/privkey.pem", str(tls.key))
    )
    assert str(tls.cert) in replaced and f":{tls.port} ssl" in replaced, "TLS block changed shape"
    return replaced


def nginx_prefix(tmp: Path, listen_port: int, upstreams: list[str], tls: TLS | None = None) -> Path:
    """An nginx prefix dir running deploy/nginx.conf against ``upstreams``; returns main conf.

    The main file supplies what the nginx image's own nginx.conf supplies in
    docker-compose (pid, events, logs, temp paths, all inside ``tmp`` so no
    root is needed) and includes the project's file; the upstream include is
    the test's counterpart of deploy/upstream.conf, listing local processes.
    """
    if not Path(NGINX).exists():
        missing_service("nginx not installed: proxy tests skipped")
    (tmp / "blabber").mkdir(parents=True, exist_ok=True)
    (tmp / "logs").mkdir(exist_ok=True)
    servers = "\n".join(f"    server {u} max_fails=1 fail_timeout=5s;" for u in upstreams)
    upstream = f"upstream blabber_app {{\n    least_conn;\n{servers}\n}}\n"  # as upstream.conf
    (tmp / "blabber" / "upstream.conf").write_text(upstream)
    (tmp / "blabber.conf").write_text(render_nginx_conf(listen_port, tmp / "logs", tls))
    main = tmp / "nginx.conf"
    main.write_text(
        f"""
pid {tmp}/nginx.pid;
error_log {tmp}/logs/error.log info;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    # As the nginx image's main config: a full-request-line access log, which the
    # project's server block must override (tests/deploy/test_proxy.py checks it does).
    log_format main '$remote_addr [$time_local] "$request" $status $body_bytes_sent';
    access_log {tmp}/logs/access.log main;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/blabber.conf;
}}
"""
    )
    return main


def nginx_test(conf: Path) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on a main config built by :func:`nginx_prefix`."""
    return subprocess.run(
        [NGINX, "-t", "-p", str(conf.parent), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@dataclasses.dataclass
class Nginx:
    """A running nginx (foreground, own process) and its log files."""

    proc: subprocess.Popen
    prefix: Path
    port: int

    @property
    def access_log(self) -> str:
        path = self.prefix / "logs" / "access.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_nginx(tmp: Path, listen_port: int, upstreams: list[str], tls: TLS | None = None) -> Nginx:
    """Run nginx with the project's config in the foreground; returns once it answers."""
    conf = nginx_prefix(tmp, listen_port, upstreams, tls)
    checked = nginx_test(conf)
    assert checked.returncode == 0, checked.stderr
    proc = subprocess.Popen(
        [NGINX, "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "logs" / "stderr.log").open("w"),
    )
    server = Nginx(proc=proc, prefix=tmp, port=listen_port)
    # /ping, not /healthz: nginx keeps the readiness endpoint off the public side.
    if wait_healthy(proc, f"http://127.0.0.1:{listen_port}/ping", timeout=20):
        return server
    server.stop()
    raise RuntimeError("nginx did not answer:\n" + (tmp / "logs" / "error.log").read_text())


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (contexts isolate the users)."""
    if not Path(CHROMIUM).exists():
        missing_service("Chromium not installed at /usr/bin/chromium: browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
