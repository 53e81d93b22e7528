"""Static checks of the deploy files: compose, .env.example, nginx config, Dockerfile.

No Docker engine runs here, so the image is not built; instead the compose
file is validated by ``docker-compose config`` (offline), nginx parses the
project's config with ``nginx -t``, and the Dockerfile is read for the
properties the deploy relies on. The running behaviour of the same files is
covered by test_multiworker.py (entrypoint) and test_proxy.py (nginx).
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PROJECT_ROOT, missing_service
from tests.deploy.conftest import nginx_prefix, nginx_test

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
DEPLOY = PROJECT_ROOT / "deploy"
REQUIRED_SECRETS = ("BLABBER_SECRET_KEY", "POSTGRES_PASSWORD")
# Alternatives to REFLEX_DB_URL / REFLEX_REDIS_URL, and the dev-only port for
# default origins: compose sets the REFLEX_* names and the origins explicitly.
SETTINGS_ALIASES = {"DATABASE_URL", "REDIS_URL", "PORT"}


def _example_vars() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def _settings_vars() -> set[str]:
    source = (PROJECT_ROOT / "blabber" / "settings.py").read_text()
    names = set(re.findall(r'env\.get\("([A-Z][A-Z0-9_]*)"', source))
    names |= set(re.findall(r'_int\(env, "([A-Z][A-Z0-9_]*)"', source))
    assert "BLABBER_SECRET_KEY" in names and "REFLEX_DB_URL" in names  # the regexes still work
    return names - SETTINGS_ALIASES


def _compose_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose") or ""
    if not exe:
        missing_service("docker-compose not installed: compose validation skipped")
    env = {k: v for k, v in os.environ.items() if k not in _example_vars()}
    return subprocess.run(
        [exe, "-f", str(COMPOSE), "--env-file", str(env_file), "config"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``docker-compose config`` output for .env.example with its required blanks filled."""
    filled = {
        k: v or ("x" * 48 if k in REQUIRED_SECRETS else v) for k, v in _example_vars().items()
    }
    env_file = tmp_path_factory.mktemp("compose") / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in filled.items()))
    proc = _compose_config(env_file)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)


def test_unedited_env_example_is_refused() -> None:
    proc = _compose_config(ENV_EXAMPLE)
    assert proc.returncode != 0
    assert any(f"set {name} in .env" in proc.stderr for name in REQUIRED_SECRETS), proc.stderr


def test_services_and_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {"app", "postgres", "redis", "proxy"}
    for name in ("app", "postgres", "redis", "proxy"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert "/healthz" in " ".join(services["app"]["healthcheck"]["test"])
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["proxy"]["image"].startswith("nginx:1.27")  # `resolve` in upstream.conf


def test_app_scales(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    assert "container_name" not in app and "ports" not in app
    assert app["build"]["context"] == str(PROJECT_ROOT)
    for dep in ("postgres", "redis"):
        assert app["depends_on"][dep]["condition"] == "service_healthy"
    assert compose["services"]["proxy"]["depends_on"]["app"]["condition"] == "service_healthy"


def test_postgres_data_on_named_volume(compose: dict[str, Any]) -> None:
    (mount,) = compose["services"]["postgres"]["volumes"]
    source, target = mount.split(":")[:2]
    assert target == "/var/lib/postgresql/data"
    assert source in compose["volumes"]  # a named volume, not a host path


def test_uploads_on_a_named_volume_and_nginx_takes_the_shipped_cap(compose: dict[str, Any]) -> None:
    """Uploads survive a rebuild; nginx lets through exactly what the app accepts."""
    from blabber.settings import Settings

    (mount,) = compose["services"]["app"]["volumes"]
    source, target = mount.split(":")[:2]
    assert target == "/app/data/uploads" and source in compose["volumes"]
    caps = re.findall(
        r"^\s*#?\s*client_max_body_size (\d+)m;", (DEPLOY / "nginx.conf").read_text(), re.M
    )
    assert caps and {int(c) for c in caps} == {Settings().upload_max_mb}


def test_app_environment_covers_settings(compose: dict[str, Any]) -> None:
    env = compose["services"]["app"]["environment"]
    missing = _settings_vars() - set(env)
    assert not missing, f"settings.py reads {missing} but compose does not pass them"
    assert env["BLABBER_ENV"] == "production"
    assert (
        env["REFLEX_DB_URL"].startswith("postgresql://")
        and "@postgres:5432/" in env["REFLEX_DB_URL"]
    )
    assert env["REFLEX_REDIS_URL"] == "redis://redis:6379/0"
    assert env["WORKERS"] == "2"


def test_env_example_documents_every_variable() -> None:
    referenced = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text()))
    documented = set(_example_vars())
    assert referenced - documented == set(), "used by docker-compose.yml, not in .env.example"
    assert documented - referenced == set(), "in .env.example, unused by docker-compose.yml"
    text = ENV_EXAMPLE.read_text()
    for name in documented:  # each has a comment block right above it
        assert re.search(rf"#[^\n]*\n{name}=", text), f"{name} is not explained"
    for name in REQUIRED_SECRETS:
        assert _example_vars()[name] == "", f"{name} must be blank in .env.example"


def test_env_file_stays_out_of_git_and_image() -> None:
    assert re.search(r"^\.env$", (PROJECT_ROOT / ".gitignore").read_text(), re.M)
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".web", "test-artifacts", ".git"} <= set(ignored)


def test_proxy_mounts_project_nginx_config(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    mounts = {m.split(":")[0]: m.split(":")[1] for m in proxy["volumes"]}
    assert mounts[str(DEPLOY / "nginx.conf")] == "/etc/nginx/conf.d/default.conf"
    # nginx.conf includes `blabber/upstream.conf` relative to /etc/nginx.
    assert mounts[str(DEPLOY / "upstream.conf")] == "/etc/nginx/blabber/upstream.conf"
    assert "include blabber/upstream.conf;" in (DEPLOY / "nginx.conf").read_text()
    (port,) = proxy["ports"]
    assert str(port["target"]) == "80" and str(port["published"]) == "80"
    # The bundle's websocket URL is built for the published port.
    assert compose["services"]["app"]["build"]["args"]["REFLEX_API_URL"] == "http://localhost:80"


def test_nginx_accepts_project_config(tmp_path: Path) -> None:
    checked = nginx_test(nginx_prefix(tmp_path, 8080, ["127.0.0.1:8001", "127.0.0.1:8002"]))
    assert checked.returncode == 0, checked.stderr


def _block(conf: str, header: str) -> str:
    start = conf.index(header)
    return conf[start : conf.index("}", start)]


def test_nginx_config_proxies_websockets_and_health() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    active = "\n".join(ln for ln in conf.splitlines() if not ln.lstrip().startswith("#"))
    event = _block(active, "location /_event")
    assert "proxy_set_header Upgrade $http_upgrade;" in event
    assert "proxy_set_header Connection $connection_upgrade;" in event
    assert "proxy_read_timeout 3600s;" in event and "proxy_send_timeout 3600s;" in event
    assert "proxy_http_version 1.1;" in active
    assert "location = /healthz" in active
    assert re.search(r"^gzip on;", active, re.M)
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-IP"):
        assert f"proxy_set_header {header}" in active
    # A TLS server block, commented out, ready to enable.
    assert "#     listen 443 ssl;" in conf and "#     ssl_certificate " in conf


def test_compose_upstream_follows_docker_dns() -> None:
    upstream = (DEPLOY / "upstream.conf").read_text()
    assert "resolver 127.0.0.11 valid=10s" in upstream
    assert re.search(r"server app:8000 resolve\b", upstream)
    assert re.search(r"^\s*zone blabber_app ", upstream, re.M)  # `resolve` needs a zone
    assert re.search(r"^\s*least_conn;", upstream, re.M)  # balance long-lived sockets


def _stages(dockerfile: str) -> list[str]:
    return re.split(r"^FROM ", dockerfile, flags=re.M)[1:]


def test_dockerfile_builds_frontend_and_runs_unprivileged() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", dockerfile, re.M)
    *_, build, runtime = _stages(dockerfile)
    assert re.search(r"^RUN pip install -r requirements\.txt", build, re.M)
    assert re.search(r"reflex export --frontend-only --no-zip --env prod", build)
    assert re.search(r"^ARG REFLEX_API_URL=http://localhost$", build, re.M)
    assert "npm" in build and "npm" not in runtime and "nodejs" not in runtime
    (user,) = re.findall(r"^USER (\S+)", runtime, re.M)
    assert user not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", runtime, re.M)
    assert 'ENTRYPOINT ["/app/deploy/entrypoint.sh"]' in runtime
    assert "COPY --from=build --chown=blabber:blabber /app/.web/build" in runtime


def test_entrypoint_is_valid_sh() -> None:
    entry = DEPLOY / "entrypoint.sh"
    assert os.access(entry, os.X_OK)
    assert subprocess.run(["sh", "-n", str(entry)], check=False).returncode == 0
    text = entry.read_text()
    assert "deploy/migrate.py" in text
    assert re.search(r"^exec \"\$PYTHON\" -m uvicorn --factory", text, re.M)
    # The app alone decides whose X-Forwarded-For to believe (BLABBER_TRUSTED_PROXIES).
    assert "--no-proxy-headers" in text


def test_app_trusts_exactly_the_proxys_fixed_address(compose: dict[str, Any]) -> None:
    """Issue 12 finding 4: trusting every private range let any container forge a client.

    nginx gets a fixed address on the compose network, outside the range
    Docker hands out to other containers (app replicas, postgres, redis), and
    the app believes X-Forwarded-For from that one address only, one hop deep.
    """
    (pool,) = compose["networks"]["default"]["ipam"]["config"]
    subnet, dynamic = ipaddress.ip_network(pool["subnet"]), ipaddress.ip_network(pool["ip_range"])
    proxy_ip = ipaddress.ip_address(
        compose["services"]["proxy"]["networks"]["default"]["ipv4_address"]
    )
    assert proxy_ip in subnet and proxy_ip not in dynamic
    env = compose["services"]["app"]["environment"]
    assert env["BLABBER_TRUSTED_PROXIES"] == str(proxy_ip)
    assert env["BLABBER_TRUSTED_PROXY_HOPS"] == "1"
    for name, service in compose["services"].items():  # nobody else may claim it
        if name != "proxy":
            assert "ipv4_address" not in str(service.get("networks", "")), name


def test_image_listens_on_all_interfaces() -> None:
    """The entrypoint defaults to 127.0.0.1 (make run); the container must say 0.0.0.0."""
    *_, runtime = _stages((PROJECT_ROOT / "Dockerfile").read_text())
    assert re.search(r"^\s+BIND_HOST=0\.0\.0\.0\b", runtime, re.M)


def test_nginx_config_does_not_expose_health_or_log_query_strings() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    active = "\n".join(ln for ln in conf.splitlines() if not ln.lstrip().startswith("#"))
    for path in ("/healthz", "/_health"):
        assert "return 404;" in _block(active, f"location = {path} ")
    (fmt,) = re.findall(r"log_format (\w+) (.*?);", active, re.S)
    assert "$request " not in fmt[1] + " " and "$request_uri" not in fmt[1]
    assert "$args" not in fmt[1] and "$query_string" not in fmt[1]
    assert f"access_log /var/log/nginx/access.log {fmt[0]};" in active
