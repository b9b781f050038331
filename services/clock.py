"""Time and randomness, injected so that tests can travel in time and replay."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def token(self, nbytes: int = 16) -> str:
        """A URL-safe random token."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def token(self, nbytes: int = 16) -> str:
        return secrets.token_urlsafe(nbytes)


@dataclass
class FrozenClock:
    """A clock that stands still until moved; tokens are random but never repeat."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 15, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta

    def set(self, when: datetime) -> None:
        self.current = when

    def token(self, nbytes: int = 16) -> str:
        return secrets.token_urlsafe(nbytes)
