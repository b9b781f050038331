"""Program settings: the rules of DOMAIN.md "Program rules" as values an admin can change at runtime.

Only overrides are stored (`program_settings`: key -> JSON value); a missing key means the default
below. Everything reads the settings through `get_settings` (or `settings_in` inside a transaction),
cached per database for a few seconds (services/engine_cache.py).
Point amounts here are WHOLE points (what an admin types), not the ledger's hundredths.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ProgramSetting
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.engine_cache import EngineCache, engine_of
from services.errors import InvalidSetting

MODES = ("bonus", "discount")
NOTIFICATION_KINDS = ("accrual", "redemption", "refund", "expiry_warning", "expired", "level_up", "birthday")

# Seconds a cached copy is trusted: another instance's update is visible after at most this long.
CACHE_TTL_SECONDS = 5.0


@dataclass(frozen=True)
class ProgramSettings:
    mode: str = "bonus"
    redemption_cap_bp: int = 3000
    return_window_days: int = 14
    expiry_days: int = 365
    expiry_warning_days: int = 7
    welcome_bonus_points: int = 100
    welcome_bonus_days: int = 30
    birthday_bonus_points: int = 500
    birthday_bonus_days: int = 7
    birthday_min_days_since_set: int = 30
    birthday_greeting_hour: int = 10
    points_decimals: int = 0
    daily_adjustment_limit_points: int = 1000
    family_members_limit: int = 5
    # Whole rubles. A staff accrual above this receipt amount is shown to the cashier for confirmation
    # before it is posted (0: every accrual); a receipt above the other is refused as a typo.
    confirm_accrual_above_rub: int = 100_000
    max_receipt_rub: int = 10_000_000
    business_timezone: str = "Europe/Moscow"
    # Which service notifications are on for a customer who changed nothing.
    notifications: tuple[str, ...] = NOTIFICATION_KINDS

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.business_timezone)

    @property
    def confirm_accrual_above_kopecks(self) -> int:
        return self.confirm_accrual_above_rub * 100

    @property
    def max_receipt_kopecks(self) -> int:
        return self.max_receipt_rub * 100

    @property
    def point_quantum(self) -> int:
        """The smallest amount of points the program hands out, in hundredths of a point."""
        return 100 if self.points_decimals == 0 else 1

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["notifications"] = list(self.notifications)
        return data


DEFAULTS = ProgramSettings()
KEYS = tuple(f.name for f in fields(ProgramSettings))

# key -> (minimum, maximum) for the integer settings.
_INT_RANGES: dict[str, tuple[int, int]] = {
    "redemption_cap_bp": (0, 10000),
    "return_window_days": (0, 365),
    "expiry_days": (1, 3650),
    "expiry_warning_days": (0, 365),
    "welcome_bonus_points": (0, 1_000_000),
    "welcome_bonus_days": (1, 3650),
    "birthday_bonus_points": (0, 1_000_000),
    "birthday_bonus_days": (1, 365),
    "birthday_min_days_since_set": (0, 3650),
    "birthday_greeting_hour": (0, 23),
    "points_decimals": (0, 2),
    "daily_adjustment_limit_points": (0, 100_000_000),
    "family_members_limit": (0, 100),
    # The top is the most a till may send at all (the API's and the bot's parsers refuse more).
    "confirm_accrual_above_rub": (0, 1_000_000_000),
    "max_receipt_rub": (1, 1_000_000_000),
}


def validate(key: str, value: Any) -> Any:
    """Return the normalised value or raise InvalidSetting(key=..., reason=...)."""
    if key not in KEYS:
        raise InvalidSetting(key=key, reason="unknown")
    if key in _INT_RANGES:
        low, high = _INT_RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidSetting(key=key, reason=f"integer {low}..{high}")
        if key == "points_decimals" and value not in (0, 2):
            raise InvalidSetting(key=key, reason="0 or 2")
        return value
    if key == "mode":
        if value not in MODES:
            raise InvalidSetting(key=key, reason="bonus or discount")
        return value
    if key == "business_timezone":
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidSetting(key=key, reason="unknown time zone") from exc
        return str(value)
    if key == "notifications":
        if not isinstance(value, list | tuple) or any(v not in NOTIFICATION_KINDS for v in value):
            raise InvalidSetting(key=key, reason=f"a list of {', '.join(NOTIFICATION_KINDS)}")
        return tuple(dict.fromkeys(value))
    raise AssertionError(f"setting {key} has no validator")


def _from_rows(rows: dict[str, Any]) -> ProgramSettings:
    values: dict[str, Any] = {}
    for key, raw in rows.items():
        if key not in KEYS:
            continue  # a key written by a newer version: ignore rather than refuse to start
        try:
            values[key] = validate(key, raw)
        except InvalidSetting:
            continue  # a hand-edited bad value falls back to the default instead of breaking accruals
    return replace(DEFAULTS, **values)


async def load_settings(session: AsyncSession) -> ProgramSettings:
    """Read the settings inside the caller's transaction (no cache)."""
    rows = (await session.execute(select(ProgramSetting.key, ProgramSetting.value))).all()
    return _from_rows({key: value for key, value in rows})


_cache: EngineCache[ProgramSettings] = EngineCache(CACHE_TTL_SECONDS)


async def get_settings(uow: UnitOfWork) -> ProgramSettings:
    """The one accessor everything uses (see services/engine_cache.py for the freshness rules)."""
    return await _cache.get_or_load(uow.engine, lambda: uow.read(load_settings))


async def settings_in(session: AsyncSession) -> ProgramSettings:
    """The cached settings from inside a transaction (a fresh read when the copy is stale)."""
    return await _cache.get_or_load(engine_of(session), lambda: load_settings(session))


def invalidate_cache(uow: UnitOfWork | None = None) -> None:
    _cache.invalidate(None if uow is None else uow.engine)


async def update_settings(uow: UnitOfWork, clock: Clock, *, changes: dict[str, Any], actor: str) -> ProgramSettings:
    """Validate and store `changes` (key -> new value) with one audit row; return the new settings."""
    if not changes:
        raise InvalidSetting(key="", reason="nothing to change")
    normalised = {key: validate(key, value) for key, value in changes.items()}

    async def work(session: AsyncSession) -> ProgramSettings:
        now = clock.now()
        before = await load_settings(session)
        existing = {
            row.key: row
            for row in (
                await session.execute(
                    select(ProgramSetting).where(ProgramSetting.key.in_(list(normalised))).with_for_update()
                )
            ).scalars()
        }
        for key, value in normalised.items():
            stored = list(value) if isinstance(value, tuple) else value
            row = existing.get(key)
            if row is None:
                session.add(ProgramSetting(key=key, value=stored, updated_at=now, updated_by=actor))
            else:
                row.value = stored
                row.updated_at = now
                row.updated_by = actor
        await session.flush()
        after = replace(before, **normalised)
        old = before.to_json()
        new = after.to_json()
        await audit.record(
            session,
            at=now,
            actor=actor,
            action="settings.update",
            entity="program_settings",
            before={k: old[k] for k in normalised},
            after={k: new[k] for k in normalised},
        )
        return after

    settings = await uow.write(work)
    invalidate_cache(uow)
    return settings
