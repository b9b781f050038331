"""Settings: defaults work with nothing set; every malformed value is named in a clear error."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings

ENV_VARS = (
    "BOT_TOKEN", "BOT_API_BASE_URL", "DATABASE_URL", "REDIS_URL", "HTTP_HOST", "HTTP_PORT", "WEBHOOK_BASE_URL",
    "WEBHOOK_SECRET", "OWNER_TELEGRAM_IDS", "TIMEZONE", "DEFAULT_REGION", "ALLOWED_REGIONS",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_need_nothing() -> None:
    settings = load_settings()
    assert settings.sandbox and settings.is_sqlite
    assert settings.database_url == "sqlite+aiosqlite:///./loyalty.db"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.allowed_regions == ["RU"] and settings.timezone == "Europe/Moscow"
    assert (settings.api_signature_max_age_seconds, settings.api_signature_max_future_seconds) == (300, 30)
    assert not settings.api_trust_x_forwarded_for


def test_values_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456789:AAEexampleexampleexample")
    monkeypatch.setenv("OWNER_TELEGRAM_IDS", "1, 22,333")
    monkeypatch.setenv("ALLOWED_REGIONS", "ru,kz")
    monkeypatch.setenv("WEBHOOK_BASE_URL", "https://bot.example.com/")
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cr3t-token_value-0123")
    settings = load_settings()
    assert not settings.sandbox
    assert settings.owner_telegram_ids == [1, 22, 333]
    assert settings.allowed_regions == ["RU", "KZ"]
    assert settings.webhook_base_url == "https://bot.example.com"


def test_env_file_is_read(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    Path(".env").write_text("HTTP_PORT=9090\n", encoding="utf-8")
    assert load_settings().http_port == 9090


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("BOT_TOKEN", "changeme", "placeholder"),
        ("BOT_TOKEN", "not-a-token", "123456789:AAE"),
        ("HTTP_PORT", "99999", "65535"),
        ("HTTP_PORT", "eighty", "integer"),
        ("DATABASE_URL", "mysql://x", "sqlite+aiosqlite://"),
        ("REDIS_URL", "localhost:6379", "redis://"),
        ("OWNER_TELEGRAM_IDS", "12,abc", "'abc' is not a Telegram user id"),
        ("TIMEZONE", "Mars/Olympus", "time zone"),
        ("DEFAULT_REGION", "XX", "region code"),
        ("ALLOWED_REGIONS", "RU,ZZ", "ZZ"),
        ("WEBHOOK_SECRET", "secret", "placeholder"),
        ("WEBHOOK_SECRET", "short", "16-256"),
        ("BOT_API_BASE_URL", "api.telegram.org", "http://"),
        ("API_SIGNATURE_MAX_AGE_SECONDS", "0", "greater than or equal to 1"),
        ("API_SIGNATURE_MAX_AGE_SECONDS", "86400", "less than or equal to 3600"),
        ("API_SIGNATURE_MAX_FUTURE_SECONDS", "-1", "greater than or equal to 0"),
        ("API_SIGNATURE_MAX_FUTURE_SECONDS", "3600", "less than or equal to 300"),
        ("API_AUTH_FAILURES_PER_MINUTE", "0", "greater than or equal to 1"),
        ("API_AUTH_FAILURES_BURST", "many", "integer"),
        ("API_TRUST_X_FORWARDED_FOR", "perhaps", "boolean"),
    ],
)
def test_malformed_value_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str, words: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert name in message and words in message


def test_webhook_needs_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_BASE_URL", "https://bot.example.com")
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET is required"):
        load_settings()


def test_every_problem_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PORT", "0")
    monkeypatch.setenv("TIMEZONE", "Nowhere")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "HTTP_PORT" in str(caught.value) and "TIMEZONE" in str(caught.value)
