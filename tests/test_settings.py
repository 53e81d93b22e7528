"""Settings built from an environment mapping (blabber.settings)."""

from __future__ import annotations

import dataclasses

import pytest

from blabber.settings import DEFAULT_DATABASE_URL, Settings, get_settings

GOOD_SECRET = "x" * 40


def test_defaults_from_empty_env():
    s = Settings.from_env({})
    assert s == Settings()
    assert s.database_url == DEFAULT_DATABASE_URL
    assert s.redis_url is None
    assert s.broker_url == "memory://"
    assert s.allowed_origins == ("http://localhost:3000", "http://127.0.0.1:3000")
    assert s.bcrypt_rounds == 12
    assert s.message_max_chars == 4000
    assert s.login_max_failures == 5
    assert s.login_window_minutes == 15
    assert s.login_address_max_failures == 20
    assert (s.signup_address_max, s.signup_window_minutes) == (10, 60)
    assert s.trusted_proxies == ()  # X-Forwarded-For ignored unless configured
    assert s.typing_min_gap_seconds == 1.0
    assert s.production is False


def test_env_overrides():
    s = Settings.from_env(
        {
            "REFLEX_DB_URL": "postgresql://db/x",
            "REFLEX_REDIS_URL": "redis://r:6379/0",
            "PORT": "8080",
            "BLABBER_ALLOWED_ORIGINS": " https://a.example , https://b.example ,",
            "BLABBER_MESSAGE_MAX_CHARS": "500",
            "BLABBER_MESSAGE_BURST": " 3 ",
            "BLABBER_BCRYPT_ROUNDS": "13",
            "BLABBER_PASSWORD_THREADS": "2",
            "BLABBER_ENV": "Production",
        }
    )
    assert s.database_url == "postgresql://db/x"
    assert s.broker_url == "redis://r:6379/0"
    assert s.port == 8080
    assert s.allowed_origins == ("https://a.example", "https://b.example")
    assert s.origins_configured is True
    assert s.message_max_chars == 500
    assert s.message_burst == 3
    assert s.bcrypt_rounds == 13
    assert s.password_threads == 2
    assert s.production is True


def test_database_url_fallback_order():
    assert Settings.from_env({"DATABASE_URL": "sqlite:///b"}).database_url == "sqlite:///b"
    both = {"DATABASE_URL": "sqlite:///b", "REFLEX_DB_URL": "sqlite:///a"}
    assert Settings.from_env(both).database_url == "sqlite:///a"


def test_default_origins_follow_port():
    s = Settings.from_env({"PORT": "4000"})
    assert s.allowed_origins == ("http://localhost:4000", "http://127.0.0.1:4000")
    assert s.origins_configured is False


def test_blank_numbers_use_defaults_and_garbage_fails_loudly():
    assert Settings.from_env({"BLABBER_MESSAGE_BURST": "  "}).message_burst == 20
    with pytest.raises(ValueError):
        Settings.from_env({"BLABBER_MESSAGE_BURST": "ten"})


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().port = 1  # type: ignore[misc]


def test_get_settings_is_built_once():
    assert get_settings() is get_settings()


def test_development_has_no_production_problems():
    assert Settings.from_env({}).production_problems() == []


def test_production_refuses_default_secret_and_missing_origins():
    problems = Settings.from_env({"BLABBER_ENV": "production"}).production_problems()
    assert any("BLABBER_SECRET_KEY is unset" in p for p in problems)
    assert any("BLABBER_ALLOWED_ORIGINS is unset" in p for p in problems)


def test_production_refuses_short_secret_and_wildcard_origin():
    env = {
        "BLABBER_ENV": "production",
        "BLABBER_SECRET_KEY": "short",
        "BLABBER_ALLOWED_ORIGINS": "*",
    }
    problems = Settings.from_env(env).production_problems()
    assert any("shorter than 32" in p for p in problems)
    assert any("must not contain '*'" in p for p in problems)


def test_production_with_secret_and_origins_is_fine():
    env = {
        "BLABBER_ENV": "production",
        "BLABBER_SECRET_KEY": GOOD_SECRET,
        "BLABBER_ALLOWED_ORIGINS": "https://chat.example.com",
    }
    assert Settings.from_env(env).production_problems() == []


def test_rate_limit_overrides():
    s = Settings.from_env(
        {
            "BLABBER_LOGIN_ADDRESS_MAX_FAILURES": "50",
            "BLABBER_SIGNUP_ADDRESS_MAX": "3",
            "BLABBER_SIGNUP_WINDOW_MINUTES": "1440",
            "BLABBER_TYPING_MIN_GAP_SECONDS": " 0.25 ",
        }
    )
    assert s.login_address_max_failures == 50
    assert (s.signup_address_max, s.signup_window_minutes) == (3, 1440)
    assert s.typing_min_gap_seconds == 0.25


def test_trusted_proxies_are_parsed_and_normalised():
    env = {"BLABBER_TRUSTED_PROXIES": " 10.0.0.7, 172.16.0.0/12 ,::1,, 10.1.2.3/16"}
    assert Settings.from_env(env).trusted_proxies == (
        "10.0.0.7/32",
        "172.16.0.0/12",
        "::1/128",
        "10.1.0.0/16",
    )


@pytest.mark.parametrize("bad", ["nginx", "10.0.0.0/33", "*"])
def test_garbage_trusted_proxies_fail_loudly(bad):
    with pytest.raises(ValueError):
        Settings.from_env({"BLABBER_TRUSTED_PROXIES": bad})
    with pytest.raises(ValueError):
        Settings.from_env({"BLABBER_TYPING_MIN_GAP_SECONDS": "fast"})


def test_the_sign_up_mode_is_one_of_three_and_a_typo_stops_the_app():
    assert Settings.from_env({}).signup_mode == "open"
    assert Settings.from_env({"BLABBER_SIGNUP": " Invite "}).signup_mode == "invite"
    assert Settings.from_env({"BLABBER_SIGNUP": "closed"}).signup_mode == "closed"
    with pytest.raises(ValueError, match="BLABBER_SIGNUP must be one of open, invite, closed"):
        Settings.from_env({"BLABBER_SIGNUP": "invites"})
