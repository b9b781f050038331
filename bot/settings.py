"""Process configuration, read once from the environment (and `.env`) and passed down explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

PUBLIC_BOT_API = "https://api.telegram.org"
# The sandbox's own database: never the product's, whose staff its personas would join.
SANDBOX_DATABASE_URL = "sqlite+aiosqlite:///./sandbox.db"

# Values people paste from examples; starting with one of them is always a mistake.
_PLACEHOLDERS = {"changeme", "change-me", "secret", "token", "xxx", "your-token", "<token>", "placeholder"}


class SettingsError(Exception):
    """Raised with a human-readable list of every malformed setting."""


def _csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    bot_api_base_url: str = PUBLIC_BOT_API
    database_url: str = "sqlite+aiosqlite:///./loyalty.db"
    # The database of the sandbox (no BOT_TOKEN, or `python -m bot sandbox`); see sandbox_database().
    sandbox_database_url: str | None = None
    # PostgreSQL connections kept open by one process; more requests than this wait for one.
    database_pool_size: int = Field(default=20, ge=1, le=500)
    redis_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    webhook_base_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    # How long an update being handled stays claimed by its instance (the webhook claim, and in
    # Redis its chat's lock) in case that instance died: afterwards a redelivery is handled by
    # another one. Longer than handling an update ever takes (a shutdown waits 30 s for those).
    update_lease_seconds: int = Field(default=120, ge=5, le=3600)
    owner_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    timezone: str = "Europe/Moscow"
    default_region: str = "RU"
    allowed_regions: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["RU"])
    log_level: str = "INFO"
    sandbox_open_browser: bool = False
    # POS/admin API: requests per minute per API key, the burst allowed above it, and whether every
    # request must carry an X-Signature.
    api_rate_limit_per_minute: int = Field(default=600, ge=1, le=1_000_000)
    api_rate_limit_burst: int = Field(default=60, ge=1, le=100_000)
    api_require_signature: bool = False
    # How far a signature's timestamp may lag behind this server's clock, and run ahead of it; a
    # used signature is remembered (Redis or the database) for the sum of the two.
    api_signature_max_age_seconds: int = Field(default=300, ge=1, le=3600)
    api_signature_max_future_seconds: int = Field(default=30, ge=0, le=300)
    # Failed authentications (no key, a wrong key, a bad or replayed signature) one client address
    # may make per minute, and the burst above it; past it every request from that address whose
    # key this instance has not just checked is refused (429) before any key look-up.
    api_auth_failures_per_minute: int = Field(default=30, ge=1, le=100_000)
    api_auth_failures_burst: int = Field(default=10, ge=1, le=10_000)
    # The client address is the connection's peer; behind a reverse proxy that appends
    # X-Forwarded-For (and that every client must go through), `true` takes that header's last entry.
    api_trust_x_forwarded_for: bool = False
    # Flood control: updates per second one Telegram user may send before being slowed; 0 = off.
    flood_limit: int = Field(default=5, ge=0, le=1000)
    # Outbox sender: messages per second overall (Telegram allows about 30; the rest is for replies).
    notify_rate_per_second: int = Field(default=25, ge=1, le=30)
    # How long a sender's claim on queued messages lasts unless renewed (it renews every third of
    # it): after a crash, what it had claimed but not begun to send goes back to the queue this late.
    outbox_claim_lease_seconds: float = Field(default=10.0, ge=1.0, le=600.0)

    @field_validator("bot_token", "webhook_secret", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("redis_url", "webhook_base_url", mode="before")
    @classmethod
    def _empty_url_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value().strip()
        if raw.lower() in _PLACEHOLDERS:
            raise ValueError("is a placeholder; put the token @BotFather gave you, or leave it empty for the sandbox")
        head, sep, tail = raw.partition(":")
        if not sep or not head.isdigit() or len(tail) < 10:
            raise ValueError("must look like 123456789:AAE... (the token @BotFather gave you)")
        return SecretStr(raw)

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        if raw.lower() in _PLACEHOLDERS:
            raise ValueError(
                "is a placeholder; generate one: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        # Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and -.
        if not (16 <= len(raw) <= 256) or not all(c.isascii() and (c.isalnum() or c in "_-") for c in raw):
            raise ValueError("must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("bot_api_base_url", "webhook_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("sandbox_database_url", mode="before")
    @classmethod
    def _empty_database_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("database_url", "sandbox_database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("owner_telegram_ids", mode="before")
    @classmethod
    def _owner_ids(cls, value: object) -> object:
        items = _csv(value)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, str) and not item.isdigit():
                    raise ValueError(f"{item!r} is not a Telegram user id (digits, comma-separated)")
        return items

    @field_validator("allowed_regions", mode="before")
    @classmethod
    def _regions_csv(cls, value: object) -> object:
        return _csv(value)

    @field_validator("default_region")
    @classmethod
    def _default_region(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region code like RU or KZ")
        return value

    @field_validator("allowed_regions")
    @classmethod
    def _allowed_regions(cls, value: list[str]) -> list[str]:
        regions = [item.upper() for item in value]
        bad = [item for item in regions if item not in phonenumbers.SUPPORTED_REGIONS]
        if bad or not regions:
            raise ValueError(f"must be comma-separated region codes like RU,KZ (bad: {', '.join(bad) or 'empty'})")
        return regions

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone like Europe/Moscow") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_base_url and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_BASE_URL is set")
        return self

    @property
    def sandbox(self) -> bool:
        """No token means no Telegram: the local Bot API emulator stands in."""
        return self.bot_token is None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def sandbox_database(settings: Settings) -> str:
    """The database the sandbox runs on: SANDBOX_DATABASE_URL when set; else its own file
    ./sandbox.db, unless DATABASE_URL was set (in the environment or .env), which names the
    product's database: then the sandbox refuses to start rather than seed its personas there or
    quietly run elsewhere."""
    if settings.sandbox_database_url is not None:
        return settings.sandbox_database_url
    if "database_url" in settings.model_fields_set:
        raise SettingsError(
            "The sandbox (no BOT_TOKEN, or `python -m bot sandbox`) will not run on DATABASE_URL's database: it "
            "adds demo staff anyone can play (an owner, a cashier).\n"
            "  Leave DATABASE_URL unset and the sandbox uses its own file ./sandbox.db, or set "
            "SANDBOX_DATABASE_URL to the database the sandbox may use (one without real customers or staff)."
        )
    return SANDBOX_DATABASE_URL


def sandbox_chats_file(database_url: str) -> Path:
    """Where the sandbox keeps its chats (the emulator's users and messages) across restarts: next
    to its SQLite file, as `<name>-chats.json` (./sandbox-chats.json for ./sandbox.db); in the
    working directory when the sandbox's database is not a file."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        return database.with_name(f"{database.stem}-chats.json")
    return Path("sandbox-chats.json")


def load_settings(**overrides: object) -> Settings:
    """Build Settings or raise SettingsError naming every bad variable in plain words."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{field.upper()}: {message}")
        raise SettingsError("Invalid configuration:\n  " + "\n  ".join(lines)) from None
