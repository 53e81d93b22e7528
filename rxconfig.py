"""Reflex configuration. Blabber's own settings live in ``blabber/settings.py``."""

from pathlib import Path

import reflex as rx

from blabber.settings import PROJECT_ROOT, get_settings

_settings = get_settings()
_bun = PROJECT_ROOT / ".tools" / "node_modules" / "bun" / "bin" / "bun.exe"

config = rx.Config(
    app_name="blabber",
    telemetry_enabled=False,
    cors_allowed_origins=list(_settings.allowed_origins),
    redis_url=_settings.redis_url,
    # Without Redis there is one worker: keep tab state in memory rather than
    # pickling it to .states/ on every update (tabs rebuild from the DB on reconnect).
    state_manager_mode="redis" if _settings.redis_url else "memory",
    db_url=None,
    bun_path=_bun if _bun.exists() else Path(rx.constants.Bun.DEFAULT_PATH),
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
