"""Faults injected per chat, so tests can show the bot survives Telegram misbehaving."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    TOO_MANY_REQUESTS = "429"
    FORBIDDEN = "403"
    SERVER_ERROR = "500"
    TIMEOUT = "timeout"


@dataclass
class Fault:
    kind: FaultKind
    remaining: int
    retry_after: int = 1
    # TIMEOUT: how long the server stalls; set it above the client's request timeout.
    delay: float = 5.0
    # TIMEOUT: whether the call still takes effect after the stall, as a slow Telegram sometimes does,
    # which is what makes a retrying bot send duplicates.
    deliver: bool = False

    def view(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "remaining": self.remaining,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "deliver": self.deliver,
        }
