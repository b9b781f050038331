"""Prometheus metrics of the process, served at /metrics. Import the objects and update them where
things happen; label values must stay few (route templates, not raw paths)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from prometheus_client import Counter, Gauge, Histogram

UPDATES_HANDLED = Counter(
    "loyalty_telegram_updates_total",
    "Telegram updates by type and result (ok, error, duplicate, in_progress)",
    ["type", "result"],
)
UPDATE_LATENCY = Histogram(
    "loyalty_telegram_update_seconds",
    "Time to handle one Telegram update, by type",
    ["type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
API_REQUESTS = Counter(
    "loyalty_api_requests_total",
    "HTTP requests by method, route template and status",
    ["method", "route", "status"],
)
API_LATENCY = Histogram(
    "loyalty_api_request_seconds",
    "HTTP request time by route template",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_SENDS = Counter(
    "loyalty_outbox_sends_total",
    "Outbox send attempts by result (sent, retry, rate_limited, blocked, failed, skipped)",
    ["result"],
)
OUTBOX_DEPTH = Gauge(
    "loyalty_outbox_depth",
    "Outbox messages not yet finished, by status; computed when scraped",
    ["status"],
)


def update_type(update: Update) -> str:
    return update.event_type if update.event_type else "unknown"


class UpdateMetricsMiddleware(BaseMiddleware):
    """Outer middleware on `dispatcher.update`: counts every update and times its handling, in
    polling and webhook mode alike."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = update_type(event) if isinstance(event, Update) else type(event).__name__
        started = time.perf_counter()
        result = "error"
        try:
            response = await handler(event, data)
            result = "ok"
            return response
        finally:
            UPDATE_LATENCY.labels(kind).observe(time.perf_counter() - started)
            UPDATES_HANDLED.labels(kind, result).inc()
