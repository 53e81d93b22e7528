"""Production refuses to start with development defaults (settings.py, blabber.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from blabber.settings import DEFAULT_SECRET_KEY, Settings
from tests.support import appserver

GOOD_SECRET = "s" * 48
PRODUCTION = {
    "BLABBER_ENV": "production",
    "BLABBER_SECRET_KEY": GOOD_SECRET,
    "BLABBER_ALLOWED_ORIGINS": "https://chat.example.com",
}


def _without(name: str) -> dict[str, str]:
    return {k: v for k, v in PRODUCTION.items() if k != name}


def test_complete_production_settings_have_no_problems() -> None:
    settings = Settings.from_env(PRODUCTION)
    assert settings.production
    assert settings.production_problems() == []
    assert settings.allowed_origins == ("https://chat.example.com",)


def test_development_never_complains() -> None:
    assert Settings.from_env({}).production_problems() == []


@pytest.mark.parametrize("secret", [None, "", DEFAULT_SECRET_KEY])
def test_default_secret_is_refused(secret: str | None) -> None:
    env = _without("BLABBER_SECRET_KEY")
    if secret is not None:
        env["BLABBER_SECRET_KEY"] = secret
    (problem,) = Settings.from_env(env).production_problems()
    assert "BLABBER_SECRET_KEY" in problem


def test_short_secret_is_refused() -> None:
    env = {**PRODUCTION, "BLABBER_SECRET_KEY": "short-but-not-default"}
    (problem,) = Settings.from_env(env).production_problems()
    assert "shorter than" in problem


@pytest.mark.parametrize("origins", [None, "", " , "])
def test_unset_origins_are_refused(origins: str | None) -> None:
    env = _without("BLABBER_ALLOWED_ORIGINS")
    if origins is not None:
        env["BLABBER_ALLOWED_ORIGINS"] = origins
    settings = Settings.from_env(env)
    (problem,) = settings.production_problems()
    assert "BLABBER_ALLOWED_ORIGINS" in problem
    # Even though development falls back to localhost origins:
    assert settings.allowed_origins and not settings.origins_configured


def test_wildcard_origin_is_refused() -> None:
    (problem,) = Settings.from_env(
        {**PRODUCTION, "BLABBER_ALLOWED_ORIGINS": "*"}
    ).production_problems()
    assert "'*'" in problem


def _import_app(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import blabber.blabber"],
        cwd=appserver.PROJECT_ROOT,
        env=appserver.base_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_app_module_refuses_unsafe_production_start() -> None:
    proc = _import_app({"BLABBER_ENV": "production"})
    assert proc.returncode != 0
    assert "refusing to start in production" in proc.stderr
    assert "BLABBER_SECRET_KEY is unset" in proc.stderr
    assert "BLABBER_ALLOWED_ORIGINS is unset" in proc.stderr
    assert "Traceback" not in proc.stderr  # a clear message, not a crash dump


@pytest.mark.slow
def test_app_module_starts_in_production_and_logs_config_without_secrets() -> None:
    env = {
        **PRODUCTION,
        "REFLEX_DB_URL": "postgresql://blabber:hunter2-db-password@db.internal:5432/blabber",
    }
    proc = _import_app(env)
    assert proc.returncode == 0, proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if "blabber starting" in ln]
    assert "production=True" in line and "origins=https://chat.example.com" in line
    assert "db.internal:5432/blabber" in line
    assert GOOD_SECRET not in proc.stderr and "hunter2-db-password" not in proc.stderr
